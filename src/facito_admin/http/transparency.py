"""Access transparency: every call Facito staff make inside an organisation is recorded there.

Read or write, allowed or refused, each call of a staff member to a route of an existing
organisation leaves one event on that organisation's audit chain, with the grant it used and
the grant's justification (the support_access domain writes it and serves the access log).
A call that succeeded is recorded in its own transaction, so that the answer is never sent
without its record (staff requests write from the start for this: context.request_writes);
one that failed is recorded in a short transaction of its own after the rollback.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import structlog
from flask import current_app, g, request
from sqlalchemy.orm import Session

from ..auth.context import Principal, StaffGrant
from .context import request_id, runtime

STAFF_ACCESS_EXTENSION = "facito_staff_access"
_VISIT = "staff_visit"
log = structlog.get_logger("facito_admin.access")


@dataclass(frozen=True)
class StaffCall:
    """One call of a staff member inside an organisation, as its access log keeps it."""

    principal: Principal
    organisation_id: uuid.UUID
    grant: StaffGrant | None
    method: str
    path: str
    route: str | None
    status: int
    request_id: str


GrantLookup = Callable[[Session, Principal, uuid.UUID], StaffGrant | None]
StaffCallRecorder = Callable[[Session, StaffCall], None]


@dataclass(frozen=True)
class StaffAccess:
    """What the edge asks of the support_access domain (installed by the app factory)."""

    # The grant in force for this staff member in this organisation, if any.
    find_grant: GrantLookup
    # Append one call to the organisation's audit chain, in the given session.
    record_call: StaffCallRecorder


def staff_access() -> StaffAccess:
    """The app's staff-access hooks (http/edge.install_edge)."""
    return cast(StaffAccess, current_app.extensions[STAFF_ACCESS_EXTENSION])


@dataclass(frozen=True)
class _Visit:
    principal: Principal
    organisation_id: uuid.UUID
    grant: StaffGrant | None


def note_staff_visit(
    principal: Principal, organisation_id: uuid.UUID, grant: StaffGrant | None
) -> None:
    """This request is a staff member's call inside an existing organisation: record it."""
    setattr(g, _VISIT, _Visit(principal, organisation_id, grant))


def is_staff_visit() -> bool:
    """Whether this request will be recorded in an organisation's access log."""
    return g.get(_VISIT) is not None


def _call(status: int) -> StaffCall | None:
    visit = cast(_Visit | None, g.get(_VISIT))
    if visit is None:
        return None
    return StaffCall(
        principal=visit.principal,
        organisation_id=visit.organisation_id,
        grant=visit.grant,
        method=request.method,
        path=request.path,
        route=request.url_rule.rule if request.url_rule is not None else None,
        status=status,
        request_id=request_id(),
    )


def record_in_request(session: Session, status: int) -> None:
    """Record a successful staff call in the request's own transaction, before its commit."""
    call = _call(status)
    if call is not None:
        staff_access().record_call(session, call)


def record_apart(status: int) -> None:
    """Record a staff call whose request wrote nothing (it failed, or opened no session)."""
    call = _call(status)
    if call is None:
        return
    try:
        with runtime().session(organisation_id=call.organisation_id, write=True) as session:
            staff_access().record_call(session, call)
            session.commit()
    except Exception:  # the caller gets its answer; the gap is logged loudly
        log.exception(
            "staff_call_not_recorded",
            organisation_id=str(call.organisation_id),
            status=status,
            path=call.path,
        )
