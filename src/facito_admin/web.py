"""The HTTP edge shared by all views: the request's session, the caller, authorisation, ETags."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from sqlalchemy.orm import Session

from .auth.context import Principal, PrincipalKind, RequestContext, resolve_principal
from .auth.permissions import Permission
from .auth.tokens import InvalidToken
from .common.pagination import Page, link_header
from .db.session import bind_organisation
from .errors import Forbidden, NotFound, PreconditionRequired, Unauthenticated
from .runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The SCIM service provider: its own bearer tokens (scim/auth.py) and error shape (problems.py).
SCIM_PREFIX = "/scim/v2"


def runtime() -> Runtime:
    """The app's runtime (bootstrap.py): settings, database, validator, queue, outbound clients."""
    return cast(Runtime, current_app.extensions["facito"])


def db_session(*, write: bool | None = None) -> Session:
    """The request's session: one per request, committed by the app after a good response.

    It writes unless the method is safe; ``write=True`` is for the rare GET that writes (a
    redirect back from Entra), so that SQLite takes its write lock at BEGIN.
    """
    session = g.get("db_session")
    if session is None:
        writing = request.method not in SAFE_METHODS if write is None else write
        session = runtime().session(write=writing)
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
    if request.path.startswith(SCIM_PREFIX):
        # SCIM routes take the organisation's SCIM tokens only, and no other route takes them.
        from .scim.auth import scim_principal

        principal = scim_principal(token)
        g.principal = principal
        return principal
    if token is None:
        raise Unauthenticated("send an Entra ID access token as `Authorization: Bearer <token>`")
    current = runtime()
    try:
        claims = current.validator.validate(token)
        principal = resolve_principal(
            claims,
            facito_tenant_id=current.settings.facito_tenant_id,
            organisation_of=current.tenants.organisation_of,
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
        # engineers will need an approved access grant (support_access). The organisation must
        # exist, so that nothing (If-Match, body rules) answers before its 404. The directory
        # reads it in a short session of its own and remembers it for a few seconds.
        if not principal.can(Permission.OrganisationRead):
            return False
        return runtime().tenants.organisation_exists(organisation_id)
    return principal.organisation_id == organisation_id


def _authorise(permissions: tuple[Permission, ...], organisation_id: uuid.UUID | None) -> None:
    principal = authenticate()
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
    g.authorised_for = (permissions, organisation_id)


def _handler_permissions() -> tuple[Permission, ...] | None:
    """What `require` declares on the view method this request will run (None: not guarded)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    handler = view
    if view_class is not None:
        # MethodView's own dispatch rule: HEAD falls back to get.
        handler = getattr(view_class, request.method.lower(), None)
        if handler is None and request.method == "HEAD":
            handler = getattr(view_class, "get", None)
    # functools.wraps copies the marker through flask-smorest's outer decorators.
    return cast("tuple[Permission, ...] | None", getattr(handler, "_required_permissions", None))


def authorise_request() -> None:
    """before_request: authenticate, confine to the path's organisation, check permissions.

    It runs before any view decorator, so a caller outside the organisation gets 404 (and a
    caller without rights 403) before `@blp.arguments` validates the body: no 422, 409 or 428
    can reveal that another organisation exists. Every route with an `org_id` is confined, even
    one that forgot `require` (fail closed).
    """
    if request.view_args is None:
        return  # routing failed (404, 405): nothing to confine
    organisation_id = request.view_args.get("org_id")
    permissions = _handler_permissions()
    if permissions is None and organisation_id is None:
        return
    _authorise(permissions or (), organisation_id)


def require(*permissions: Permission) -> Callable[[F], F]:
    """Authenticate, confine the request to the path's organisation, then check permissions.

    A caller outside the organisation gets 404 (as if it did not exist), before any 403 or 422.
    The app's :func:`authorise_request` hook does this before the body is parsed; the wrapper
    checks it again unless that hook already passed this request for exactly these
    permissions and organisation, so a view never runs unchecked.
    """

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            organisation_id = kwargs.get("org_id")
            if g.get("authorised_for") != (permissions, organisation_id):
                _authorise(permissions, organisation_id)
            return func(*args, **kwargs)

        wrapper._required_permissions = permissions  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorator


AUDIT_EXEMPT_ATTR = "_audit_exempt_reason"


def exempt_from_audit(reason: str) -> None:
    """Let this mutating request succeed without an audit event (it provably changed nothing).

    For layers that answer without running a view's change, e.g. an Idempotency-Key replay.
    """
    g.audit_exempt_reason = reason


def audit_exemption() -> str | None:
    """Why the current request needs no audit event, if it was exempted."""
    return cast(str | None, g.get("audit_exempt_reason"))


def audit_exempt(*, reason: str) -> Callable[[F], F]:
    """Opt a POST/PUT/PATCH/DELETE view out of the rule that every change is audited.

    For requests that change nothing (a search sent as POST, building a consent URL); app.py
    answers 500 for any other successful mutating request that recorded no audit event.
    The reason is kept on the view (``_audit_exempt_reason``) so tests can list exemptions.
    """
    if not reason.strip():
        raise ValueError("say why this view changes nothing")

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            exempt_from_audit(reason)
            return func(*args, **kwargs)

        setattr(wrapper, AUDIT_EXEMPT_ATTR, reason)
        return cast(F, wrapper)

    return decorator


def if_match() -> str:
    """The request's If-Match value; 428 when missing (we never update blind)."""
    value = request.headers.get("If-Match")
    if not value:
        raise PreconditionRequired("send the resource's ETag in If-Match")
    return value


def page_response(
    page: Page[Any], args: Mapping[str, Any]
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A list answer: `{items, next_cursor}`, and a `Link: rel="next"` keeping the filters."""
    query = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in args.items()}
    body = {"items": page.items, "next_cursor": page.next_cursor}
    return body, 200, link_header(request.base_url, query, page.next_cursor)
