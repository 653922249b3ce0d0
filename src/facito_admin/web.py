"""The HTTP edge shared by all views: the request's session, the caller, authorisation, ETags."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from joserfc.jwk import RSAKey
from sqlalchemy.orm import Session

from .auth.context import Principal, PrincipalKind, RequestContext, resolve_principal
from .auth.permissions import Permission
from .auth.tokens import InvalidToken, TokenValidator
from .config import Settings
from .db.session import Database, bind_organisation
from .errors import Forbidden, NotFound, PreconditionRequired, Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Services:
    """Everything the app holds for its lifetime, reachable as ``app.extensions['facito']``."""

    settings: Settings
    database: Database
    validator: TokenValidator
    dev_key: RSAKey | None


def services() -> Services:
    return cast(Services, current_app.extensions["facito"])


def db_session() -> Session:
    """The request's session: one per request, committed by the app after a good response."""
    session = g.get("db_session")
    if session is None:
        session = services().database.session(write=request.method not in SAFE_METHODS)
        g.db_session = session
    return cast(Session, session)


def request_id() -> str:
    """The request's id (made here if the request-id hook has not run: body and header agree)."""
    value = g.get("request_id")
    if not value:
        value = g.request_id = uuid.uuid4().hex
    return cast(str, value)


def bearer_token() -> str | None:
    """The request's bearer token, if it sent one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate() -> Principal:
    """The caller behind the request's bearer token (cached for the request, refusals too).

    The rate limiter and the idempotency layer ask before the view does; a refused token is
    validated once and refused with the same reason each time.
    """
    principal = g.get("principal")
    if principal is not None:
        return cast(Principal, principal)
    refused = g.get("auth_refused")
    if refused is not None:
        raise Unauthenticated(f"invalid token: {refused}", extra={"reason": refused})
    token = bearer_token()
    if token is None:
        raise Unauthenticated("send an Entra ID access token as `Authorization: Bearer <token>`")
    svc = services()
    try:
        claims = svc.validator.validate(token)
        # A short read of global tables; the request's own session may be a writing one.
        with svc.database.session() as lookup:
            principal = resolve_principal(
                lookup, claims, facito_tenant_id=svc.settings.facito_tenant_id
            )
    except InvalidToken as exc:
        g.auth_refused = exc.reason
        raise Unauthenticated(
            f"invalid token: {exc.reason}", extra={"reason": exc.reason}
        ) from None
    g.principal = principal
    return principal


def authenticated_or_none() -> Principal | None:
    """The caller when a valid bearer token came with the request; None otherwise (no 401)."""
    if bearer_token() is None:
        return None
    try:
        return authenticate()
    except Unauthenticated:
        return None


def current_ctx() -> RequestContext:
    """The caller and request id, as services receive them."""
    return RequestContext(principal=authenticate(), request_id=request_id())


def _can_reach_organisation(principal: Principal, organisation_id: uuid.UUID) -> bool:
    if principal.kind is PrincipalKind.facito_staff:
        # Staff reach organisations through their role's permissions (operators); support
        # engineers will need an approved access grant (support_access).
        return principal.can(Permission.OrganisationRead)
    return principal.organisation_id == organisation_id


def require(*permissions: Permission) -> Callable[[F], F]:
    """Authenticate, confine the request to the path's organisation, then check permissions.

    A caller outside the organisation gets 404 (as if it did not exist), before any 403.
    """

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            organisation_id = kwargs.get("org_id")
            if organisation_id is not None:
                if not _can_reach_organisation(principal, organisation_id):
                    raise NotFound("no such organisation")
                bind_organisation(db_session(), organisation_id)
            missing = [p for p in permissions if not principal.can(p)]
            if missing:
                raise Forbidden(
                    "your roles do not grant this",
                    extra={"missing_permissions": [str(p) for p in missing]},
                )
            return func(*args, **kwargs)

        wrapper._required_permissions = permissions  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorator


def if_match() -> str:
    """The request's If-Match value; 428 when missing (we never update blind)."""
    value = request.headers.get("If-Match")
    if not value:
        raise PreconditionRequired("send the resource's ETag in If-Match")
    return value
