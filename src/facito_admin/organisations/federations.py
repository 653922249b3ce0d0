"""Federations: Entra tenants whose tokens act for an organisation once admin consent is proven.

Onboarding: an operator attaches the tenant id (pending_consent), asks for an admin-consent URL
and hands it to the tenant's administrator; Entra redirects the administrator's browser to our
callback with `state`, which we check (signature, age, single-use nonce, tenant) before proving
the consent by getting an app-only token for that tenant. Only then is the federation active.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import Principal, PrincipalKind, RequestContext
from ..auth.microsoft import EntraApps, TokenAcquisitionFailed, admin_consent_url
from ..common.pagination import Page, paginate
from ..config import Settings
from ..db.base import utcnow
from ..db.session import bind_organisation, end_read_snapshot
from ..db.tenancy import require_organisation
from ..errors import (
    AlreadyExists,
    DomainError,
    InvalidState,
    NotFound,
    UpstreamFailed,
    ValidationFailed,
)
from ..tenants.lookups import get_organisation
from ..tenants.models import Federation, FederationStatus, Organisation, OrganisationStatus
from .actions import OrganisationAction

log = structlog.get_logger(__name__)

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CALLBACK_PATH = "/v1/federations/admin-consent/callback"
STATE_SALT = "facito-admin-consent"
STATE_MAX_AGE = timedelta(hours=1)

# The actor of what happens on Entra's redirect: no bearer token comes with it.
ADMIN_CONSENT_PRINCIPAL = Principal(
    kind=PrincipalKind.system,
    tenant_id="",
    object_id="",
    display_name="entra-admin-consent",
    roles=frozenset(),
    permissions=frozenset(),
    organisation_id=None,
)


class ConsentStateInvalid(DomainError):
    """The callback's `state` is not one we issued, has expired, or was used or replaced."""

    status, code, title = 400, "invalid-consent-state", "Invalid admin-consent state"


@dataclass(frozen=True)
class ConsentAttempt:
    """A failed callback that carried a genuine state: what the audit log should remember."""

    federation_id: uuid.UUID
    organisation_id: uuid.UUID
    tenant_id: str
    nonce: str
    reason: str
    # Entra answered (denied, other tenant): that state is spent. An unproven consent keeps
    # it, so the administrator can reload the callback once Entra answers again.
    spends_state: bool
    details: dict[str, Any] = field(default_factory=dict)


class ConsentAttemptFailed(DomainError):
    """The request rolls back; the view records :attr:`attempt` in a transaction of its own."""

    def __init__(
        self, detail: str, *, attempt: ConsentAttempt, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail, extra=extra)
        self.attempt = attempt


class AdminConsentDenied(ConsentAttemptFailed):
    status, code, title = 400, "admin-consent-denied", "Admin consent was not granted"


class ConsentTenantMismatch(ConsentAttemptFailed):
    status, code, title = 400, "tenant-mismatch", "Consent came from another tenant"


class ConsentNotProven(ConsentAttemptFailed, UpstreamFailed):
    status, code, title = UpstreamFailed.status, UpstreamFailed.code, UpstreamFailed.title


@dataclass(frozen=True)
class AdminConsent:
    consent_url: str
    state: str
    expires_at: datetime


def callback_url(settings: Settings) -> str:
    """Where Entra sends the administrator back; register it on the app registration."""
    return settings.public_base_url + CALLBACK_PATH


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.resolved_secret_key, salt=STATE_SALT)


def _writable_organisation(session: Session) -> Organisation:
    organisation = get_organisation(session, organisation_id=require_organisation(session))
    if organisation.status is OrganisationStatus.offboarded:
        raise InvalidState("an offboarded organisation cannot change its federations")
    return organisation


def get_federation(session: Session, *, federation_id: uuid.UUID) -> Federation:
    """One federation of the session's organisation."""
    organisation_id = require_organisation(session)
    # Federations are a global table (tokens are resolved through them before any
    # organisation is known), so the organisation filter is explicit here.
    federation = session.scalar(
        select(Federation).where(
            Federation.id == federation_id, Federation.organisation_id == organisation_id
        )
    )
    if federation is None:
        raise NotFound("no such federation")
    return federation


def list_federations(
    session: Session, *, status: FederationStatus | None, limit: int, cursor: str | None
) -> Page[Federation]:
    """The organisation's federations in attach order, optionally of one status."""
    organisation = get_organisation(session, organisation_id=require_organisation(session))
    query = select(Federation).where(Federation.organisation_id == organisation.id)
    if status is not None:
        query = query.where(Federation.status == status)
    return paginate(session, query, keys=[Federation.id], limit=limit, cursor=cursor)


def attach_federation(
    session: Session,
    ctx: RequestContext,
    *,
    tenant_id: str,
    display_name: str | None,
    facito_tenant_id: str,
) -> Federation:
    """Attach an Entra tenant, pending its administrator's consent."""
    organisation = _writable_organisation(session)
    tenant = tenant_id.strip().lower()
    if not GUID.match(tenant):
        raise ValidationFailed("invalid tenant id", errors={"tenant_id": ["must be a GUID"]})
    if tenant == facito_tenant_id:
        # Its tokens carry Facito staff roles; it must never also act for a customer.
        raise ValidationFailed(
            "Facito's own tenant cannot be federated",
            errors={"tenant_id": ["Facito's own tenant cannot be federated"]},
        )
    if session.scalar(select(Federation.id).where(Federation.tenant_id == tenant)) is not None:
        raise AlreadyExists("this tenant is already attached to an organisation")
    federation = Federation(
        organisation_id=organisation.id, tenant_id=tenant, display_name=display_name
    )
    session.add(federation)
    session.flush()
    record_event(
        session,
        ctx,
        action=OrganisationAction.FederationAttach,
        target_type="federation",
        target_id=federation.id,
        details={"tenant_id": tenant, "display_name": display_name},
    )
    return federation


def disable_federation(
    session: Session, ctx: RequestContext, *, federation_id: uuid.UUID
) -> Federation:
    """Stop accepting the tenant's tokens; a new admin consent activates it again."""
    _writable_organisation(session)
    federation = get_federation(session, federation_id=federation_id)
    if federation.status is FederationStatus.disabled:
        raise InvalidState("the federation is already disabled")
    previous = federation.status
    federation.status = FederationStatus.disabled
    # An outstanding consent URL must not re-activate what an operator just disabled.
    federation.consent_nonce = None
    session.flush()
    record_event(
        session,
        ctx,
        action=OrganisationAction.FederationDisable,
        target_type="federation",
        target_id=federation.id,
        details={"tenant_id": federation.tenant_id, "from": previous.value},
    )
    return federation


def remove_federation(session: Session, ctx: RequestContext, *, federation_id: uuid.UUID) -> None:
    """Remove a federation; the tenant's tokens are refused from the next request on."""
    get_organisation(session, organisation_id=require_organisation(session))
    federation = get_federation(session, federation_id=federation_id)
    details = {"tenant_id": federation.tenant_id, "status": federation.status.value}
    session.delete(federation)
    session.flush()
    record_event(
        session,
        ctx,
        action=OrganisationAction.FederationRemove,
        target_type="federation",
        target_id=federation_id,
        details=details,
    )


def start_admin_consent(
    session: Session, ctx: RequestContext, *, federation_id: uuid.UUID, settings: Settings
) -> AdminConsent:
    """A consent URL for the tenant's administrator; it replaces any earlier one."""
    _writable_organisation(session)
    federation = get_federation(session, federation_id=federation_id)
    nonce = secrets.token_urlsafe(32)
    federation.consent_nonce = nonce
    state = _serializer(settings).dumps(
        {"f": str(federation.id), "t": federation.tenant_id, "n": nonce}
    )
    expires_at = utcnow() + STATE_MAX_AGE
    session.flush()
    record_event(
        session,
        ctx,
        action=OrganisationAction.FederationConsentStart,
        target_type="federation",
        target_id=federation.id,
        details={"tenant_id": federation.tenant_id, "expires_at": expires_at.isoformat()},
    )
    url = admin_consent_url(
        authority_host=settings.authority_host,
        tenant_id=federation.tenant_id,
        client_id=settings.client_id,
        redirect_uri=callback_url(settings),
        state=state,
    )
    return AdminConsent(consent_url=url, state=state, expires_at=expires_at)


def _read_state(settings: Settings, state: str) -> tuple[uuid.UUID, str, str]:
    try:
        payload = _serializer(settings).loads(state, max_age=int(STATE_MAX_AGE.total_seconds()))
        return uuid.UUID(payload["f"]), str(payload["t"]), str(payload["n"])
    except SignatureExpired:
        raise ConsentStateInvalid("the consent link has expired; ask for a new one") from None
    except (BadData, KeyError, TypeError, ValueError):
        log.warning("admin_consent_state_refused", reason="bad signature or shape")
        raise ConsentStateInvalid("the consent state is not one we issued") from None


def _federation_for_state(session: Session, federation_id: uuid.UUID, nonce: str) -> Federation:
    # FOR UPDATE: two callbacks with one state serialise, and the second finds the nonce gone.
    federation = session.scalar(
        select(Federation).where(Federation.id == federation_id).with_for_update()
    )
    current = federation.consent_nonce if federation is not None else None
    if federation is None or current is None or not hmac.compare_digest(current, nonce):
        log.warning("admin_consent_state_refused", reason="used, replaced or unknown")
        raise ConsentStateInvalid("this consent link was already used or replaced by a newer one")
    return federation


def complete_admin_consent(
    session: Session,
    ctx: RequestContext,
    *,
    settings: Settings,
    entra: EntraApps,
    state: str,
    tenant: str | None,
    admin_consent: str | None,
    error: str | None,
    error_description: str | None,
) -> Federation:
    """Check Entra's redirect, prove the consent with an app-only token, then activate."""
    federation_id, state_tenant, nonce = _read_state(settings, state)
    federation = _federation_for_state(session, federation_id, nonce)
    tenant_id, organisation_id = federation.tenant_id, federation.organisation_id

    def attempt(reason: str, *, spends_state: bool, **details: Any) -> ConsentAttempt:
        return ConsentAttempt(
            federation_id, organisation_id, tenant_id, nonce, reason, spends_state, details
        )

    if error:
        description = (error_description or "")[:500]
        raise AdminConsentDenied(
            f"Entra answered {error}: {description}".rstrip(": "),
            attempt=attempt(error, spends_state=True, error_description=description),
            extra={"error": error},
        )
    # Never trust `tenant` alone: it must be the tenant this state was issued for.
    returned = (tenant or "").strip().lower()
    if returned != tenant_id or returned != state_tenant:
        raise ConsentTenantMismatch(
            "the consent was granted in another tenant than this federation's",
            attempt=attempt("tenant-mismatch", spends_state=True, returned_tenant=returned[:100]),
        )
    if (admin_consent or "").strip().lower() != "true":
        raise AdminConsentDenied(
            "Entra did not report admin consent",
            attempt=attempt("no-admin-consent", spends_state=True),
        )
    organisation = get_organisation(session, organisation_id=organisation_id)
    if organisation.status is OrganisationStatus.offboarded:
        raise InvalidState("the organisation was offboarded")

    end_read_snapshot(session)
    try:
        entra.acquire_app_token(tenant_id, use_cache=False)
    except TokenAcquisitionFailed as exc:
        log.warning("admin_consent_not_proven", tenant_id=tenant_id, error=exc.error)
        raise ConsentNotProven(
            f"Entra issued no token for the tenant ({exc.error}); the federation stays pending",
            attempt=attempt("not-proven", spends_state=False, error=exc.error),
            extra={"error": exc.error},
        ) from None

    # Re-read under the write lock: the state is spent exactly once.
    federation = _federation_for_state(session, federation_id, nonce)
    bind_organisation(session, federation.organisation_id)
    previous = federation.status
    federation.status = FederationStatus.active
    federation.consented_at = utcnow()
    federation.consent_nonce = None
    session.flush()
    record_event(
        session,
        ctx,
        action=OrganisationAction.FederationActivate,
        target_type="federation",
        target_id=federation.id,
        details={"tenant_id": tenant_id, "from": previous.value},
    )
    return federation


def record_consent_failure(
    session: Session, ctx: RequestContext, *, attempt: ConsentAttempt
) -> None:
    """Remember a failed consent of a genuine state, in a transaction of the failure's own."""
    federation = session.get(Federation, attempt.federation_id)
    if (
        attempt.spends_state
        and federation is not None
        and federation.consent_nonce is not None
        # Only the nonce of this attempt: a newer consent URL may have replaced it meanwhile.
        and hmac.compare_digest(federation.consent_nonce, attempt.nonce)
    ):
        federation.consent_nonce = None
        session.flush()
    record_event(
        session,
        ctx,
        action=OrganisationAction.FederationActivate,
        target_type="federation",
        target_id=attempt.federation_id,
        details={"tenant_id": attempt.tenant_id, "reason": attempt.reason, **attempt.details},
        outcome="failure",
    )
