"""Who is calling and what they may do here: authentication, reach, permissions.

Every request is authorised before any view decorator runs (:func:`authorise_request`, a
before_request hook): its protocol authenticates the bearer token, :func:`reach` decides
whether the caller reaches the organisation the request acts in and with which permissions,
and the permissions the route needs must be among them. A caller outside the organisation
gets 404, as if it did not exist, before any 403, 415, 422 or 428 could tell otherwise.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, request

from ..auth.context import (
    Access,
    Principal,
    PrincipalKind,
    RequestContext,
    StaffGrant,
    resolve_principal,
)
from ..auth.permissions import Permission
from ..auth.tokens import InvalidToken
from ..db.session import bind_organisation
from ..errors import Forbidden, NotFound, Unauthenticated
from .context import db_session, request_id, runtime, view_marker
from .protocols import current_protocol
from .transparency import note_staff_visit, staff_access

F = TypeVar("F", bound=Callable[..., Any])
REQUIRED_ATTR = "_required_permissions"


def bearer_token() -> str | None:
    """The request's bearer token, if it sent one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def entra_principal(token: str | None) -> Principal:
    """REST's authenticator: the caller behind an Entra ID (or development) access token."""
    if token is None:
        raise Unauthenticated("send an Entra ID access token as `Authorization: Bearer <token>`")
    current = runtime()
    try:
        claims = current.validator.validate(token)
        return resolve_principal(
            claims,
            facito_tenant_id=current.settings.facito_tenant_id,
            organisation_of=current.tenants.organisation_of,
        )
    except InvalidToken as exc:
        raise Unauthenticated(
            f"invalid token: {exc.reason}", extra={"reason": exc.reason}
        ) from None


def authenticate() -> Principal:
    """The caller of the request, by its protocol's authenticator (cached, refusals too).

    The rate limiter and the idempotency layer ask before the view does; a refused token is
    checked once and refused with the same answer each time.
    """
    principal = g.get("principal")
    if principal is not None:
        return cast(Principal, principal)
    refused = g.get("auth_refused")
    if refused is not None:
        raise refused
    try:
        principal = current_protocol().authenticate(bearer_token())
    except Unauthenticated as refusal:
        g.auth_refused = refusal
        raise
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


def current_access() -> Access | None:
    """What the caller may do in the organisation the request acts in (None: no organisation)."""
    return cast(Access | None, g.get("access"))


def current_ctx() -> RequestContext:
    """The caller, its access and the request id, as services receive them."""
    return RequestContext(
        principal=authenticate(), request_id=request_id(), access=current_access()
    )


def _grant_in_force(principal: Principal, organisation_id: uuid.UUID) -> StaffGrant | None:
    # Read in a short session of its own, never cached: a revoked grant ends at once.
    with runtime().session() as session:
        return staff_access().find_grant(session, principal, organisation_id)


def reach(principal: Principal, organisation_id: uuid.UUID) -> Access | None:
    """Whether ``principal`` reaches the organisation, and with which permissions.

    The one place that decides who gets into an organisation (None: they do not, and the
    organisation does not exist for them). Its own callers reach it with their roles'
    permissions. Facito staff reach an existing organisation with what their role needs for
    onboarding (operators: profile, federations, domains, contracts, directory syncs), plus
    what a support grant in force gives them; anything personal comes only from a grant.
    """
    if principal.kind is PrincipalKind.facito_staff:
        # The organisation must exist, so that nothing (If-Match, body rules) answers before
        # its 404. The tenant directory reads it in a short session of its own and remembers
        # it for a few seconds.
        if not runtime().tenants.organisation_exists(organisation_id):
            return None
        grant = _grant_in_force(principal, organisation_id)
        if grant is not None:
            permissions = principal.permissions | grant.permissions
            return Access(organisation_id, permissions, via="support-grant", grant=grant)
        if not principal.can(Permission.OrganisationRead):
            return None
        return Access(organisation_id, principal.permissions, via="staff-role")
    if principal.organisation_id == organisation_id:
        return Access(organisation_id, principal.permissions, via="member")
    return None


def _authorise(
    principal: Principal, permissions: tuple[Permission, ...], organisation_id: uuid.UUID | None
) -> None:
    granted = principal.permissions
    grant: StaffGrant | None = None
    by_staff_role = False
    if organisation_id is not None:
        access = reach(principal, organisation_id)
        if principal.kind is PrincipalKind.facito_staff and (
            access is not None or runtime().tenants.organisation_exists(organisation_id)
        ):
            # Allowed or refused, the organisation sees the call (http/transparency.py).
            note_staff_visit(principal, organisation_id, access.grant if access else None)
        if access is None:
            raise NotFound("no such organisation")
        bind_organisation(db_session(), organisation_id)
        g.access = access
        granted = access.permissions
        grant = access.grant
        by_staff_role = access.via == "staff-role"
    missing = [p for p in permissions if p not in granted]
    if missing and by_staff_role:
        # Without a grant, an organisation's personal data does not exist for Facito staff:
        # the answer is the one for an organisation they do not reach.
        raise NotFound("no such organisation")
    if missing:
        detail = (
            "your roles do not grant this"
            if grant is None
            else "your support grant's scope does not cover this"
        )
        raise Forbidden(detail, extra={"missing_permissions": [str(p) for p in missing]})
    g.authorised_for = (permissions, organisation_id)


def declared_permissions() -> tuple[Permission, ...] | None:
    """What ``require`` declares on the view this request will run (None: not guarded)."""
    # functools.wraps copies the marker through flask-smorest's outer decorators.
    return cast("tuple[Permission, ...] | None", view_marker(REQUIRED_ATTR))


def authorise_request() -> None:
    """before_request: authenticate, confine to the request's organisation, check permissions.

    It runs before any view decorator, so a caller outside the organisation gets 404 (and a
    caller without rights 403) before `@blp.arguments` validates the body. Every route with
    an `org_id` is confined, even one that forgot `require` (fail closed).
    """
    if request.view_args is None:
        return  # routing failed (404, 405): nothing to confine
    protocol = current_protocol()
    permissions = protocol.required_permissions()
    path_organisation = request.view_args.get("org_id")
    if permissions is None and path_organisation is None:
        return
    principal = authenticate()
    organisation_id = path_organisation or protocol.organisation_of(principal)
    _authorise(principal, permissions or (), organisation_id)


def require(*permissions: Permission) -> Callable[[F], F]:
    """Authenticate, confine the request to the path's organisation, then check permissions.

    :func:`authorise_request` does this before the body is parsed; the wrapper checks it
    again unless that hook already passed this request for exactly these permissions and
    organisation, so a view never runs unchecked.
    """

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            organisation_id = kwargs.get("org_id")
            if g.get("authorised_for") != (permissions, organisation_id):
                _authorise(authenticate(), permissions, organisation_id)
            return func(*args, **kwargs)

        setattr(wrapper, REQUIRED_ATTR, permissions)
        return cast(F, wrapper)

    return decorator
