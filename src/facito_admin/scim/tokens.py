"""SCIM tokens: create (the secret is shown once), list, read, revoke; and resolve a bearer.

A token reads ``fscim.<organisation id>.<token id>.<secret>`` (ids as 32 hex digits, the
secret 43 url-safe characters, 256 random bits). Naming the organisation lets the lookup run
in a session bound to it, so row-level security guards it like any tenant read; only the
secret's sha256 is stored, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..db.base import new_id, utcnow
from ..db.tenancy import REUSED_STATEMENT, scoped_rows
from ..errors import InvalidState, NotFound, ValidationFailed
from ..tenants.models import Federation, FederationStatus, Organisation, OrganisationStatus
from .actions import ScimAction
from .models import ScimToken

PREFIX = "fscim"
_SECRET_BYTES = 32


@dataclass(frozen=True)
class TokenParts:
    """The parts of a presented token string."""

    organisation_id: uuid.UUID
    token_id: uuid.UUID
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(value: str) -> TokenParts | None:
    """The organisation, id and secret a token string names; None when it is not one of ours."""
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[3]:
        return None
    try:
        organisation_id = uuid.UUID(hex=parts[1])
        token_id = uuid.UUID(hex=parts[2])
    except ValueError:
        return None
    if len(parts[1]) != 32 or len(parts[2]) != 32 or len(parts[3]) > 100:
        return None
    return TokenParts(organisation_id, token_id, parts[3])


def create_token(
    session: Session,
    ctx: RequestContext,
    *,
    description: str,
    expires_at: datetime | None,
) -> tuple[ScimToken, str]:
    """Create a token; the secret string is returned here once and never stored."""
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(
            "the token would already be expired", errors={"expires_at": ["must be in the future"]}
        )
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    principal = ctx.principal
    token = ScimToken(
        id=new_id(),
        description=description,
        secret_sha256=_digest(secret),
        created_at=now,
        created_by=f"{principal.display_name} ({principal.object_id})"[:200],
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    record_event(
        session,
        ctx,
        action=ScimAction.ScimTokenCreate,
        target_type="scim_token",
        target_id=token.id,
        details={"expires_at": expires_at.isoformat() if expires_at else None},
    )
    value = f"{PREFIX}.{token.organisation_id.hex}.{token.id.hex}.{secret}"
    return token, value


def list_tokens(session: Session, *, limit: int, cursor: str | None) -> Page[ScimToken]:
    """The organisation's tokens, oldest first (revoked and expired ones too)."""
    return paginate(session, select(ScimToken), keys=[ScimToken.id], limit=limit, cursor=cursor)


def get_token(session: Session, *, token_id: uuid.UUID) -> ScimToken:
    """One token of the session's organisation."""
    token = session.scalar(select(ScimToken).where(ScimToken.id == token_id))
    if token is None:
        raise NotFound("no such SCIM token")
    return token


def revoke_token(session: Session, ctx: RequestContext, *, token_id: uuid.UUID) -> ScimToken:
    """Revoke a token: from now on it is refused with 401."""
    token = get_token(session, token_id=token_id)
    if token.revoked_at is not None:
        raise InvalidState("the token is already revoked")
    token.revoked_at = utcnow()
    session.flush()
    record_event(
        session,
        ctx,
        action=ScimAction.ScimTokenRevoke,
        target_type="scim_token",
        target_id=token.id,
    )
    return token


# A token provisions its organisation only while the organisation is federated: disabling or
# removing its last active federation (Facito offboarding a tenant, a revoked admin consent)
# stops its SCIM tokens too, without revoking them; an active federation again restores them.
_FEDERATED = (
    exists()
    .where(
        Federation.organisation_id == ScimToken.organisation_id,
        Federation.status == FederationStatus.active,
    )
    .label("federated")
)
# Every SCIM request runs it: built once, columns only (no token entity to load), and run by
# scoped_rows, which gives it the organisation criteria with the organisation as a parameter.
_TOKEN_AND_STATUS = (
    select(
        ScimToken.organisation_id,
        ScimToken.id,
        ScimToken.description,
        ScimToken.secret_sha256,
        ScimToken.revoked_at,
        ScimToken.expires_at,
        ScimToken.last_used_at,
        Organisation.status,
        _FEDERATED,
    )
    .join(Organisation, Organisation.id == ScimToken.organisation_id)
    .where(ScimToken.id == bindparam("token_id", type_=ScimToken.id.type))
    .execution_options(**{REUSED_STATEMENT: True})
)


@dataclass(frozen=True)
class ResolvedToken:
    """What a request needs of the usable token it presented."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    description: str
    last_used_at: datetime | None


def resolve_token(session: Session, parts: TokenParts, *, now: datetime) -> ResolvedToken | str:
    """The usable token the parts name, or why it is refused (a short reason).

    ``session`` is bound to ``parts.organisation_id``; one query reads the token, its
    organisation's status and whether the organisation has an active federation.
    """
    rows = scoped_rows(session, _TOKEN_AND_STATUS, {"token_id": parts.token_id})
    row = rows[0] if rows else None
    # Unknown and wrong secrets get the same answer: nothing tells a guesser which ids exist.
    if row is None or not hmac.compare_digest(row.secret_sha256, _digest(parts.secret)):
        return "unknown token"
    if row.revoked_at is not None:
        return "token revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "token expired"
    if row.status is not OrganisationStatus.active:
        return "organisation is not active"
    if not row.federated:
        return "organisation has no active federation"
    return ResolvedToken(row.id, row.organisation_id, row.description, row.last_used_at)
