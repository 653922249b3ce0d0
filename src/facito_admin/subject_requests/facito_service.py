"""Facito's DPO queue: personal accounts' requests and the Facito-controlled part of an
organisation user's request (Facito is the controller of both).

The same handling as the organisation's queue (handling.py: status, clock, timeline), with
every change recorded on Facito's own audit chain instead of an organisation's, and no
webhooks (there is no organisation to tell). Read and changed in sessions that serve no
organisation (Facito's DPO and support); an organisation's session only adds the part split
from one of its requests (service.py) and cancels it with that request.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit.facito_log import record_facito_event
from ..auth.context import RequestContext
from ..auth.permissions import AppRole
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..errors import NotFound
from ..policies.effective.service import statement_terms
from . import handling, lifecycle, queue_handling, routing
from .actions import FacitoRequestAction
from .filters import RequestFilter, filtered
from .handling import Filed
from .models import (
    OPEN_STATUSES,
    UNVERIFIED_CHANNELS,
    Channel,
    FacitoSubjectRequest,
    RequesterKind,
    RequestKind,
    RequestStatus,
    SubjectRequest,
)
from .queue_handling import Recorder

# Facito's own chain, and nobody to tell (queue_handling.py).
RECORDER = Recorder(FacitoSubjectRequest, record_facito_event, FacitoRequestAction)


# --- the part of an organisation's request -------------------------------------------------


def file_linked_part(
    session: Session,
    ctx: RequestContext,
    request: SubjectRequest,
    part: routing.RoutedPart,
    *,
    verified: bool,
) -> FacitoSubjectRequest:
    """The part of an organisation's new ``request`` that Facito's DPO answers, filed in the
    DPO's queue with the same clock and linked to it."""
    twin = FacitoSubjectRequest(
        reference=handling.new_reference(),
        kind=request.kind,
        status=RequestStatus.received,
        subject_organisation_id=request.organisation_id,
        subject_account_id=request.subject_account_id,
        subject_identity=request.subject_identity,
        requester_kind=request.requester_kind,
        requester_id=request.requester_id,
        requester_display=request.requester_display,
        guardian_consent_id=request.guardian_consent_id,
        channel=request.channel,
        description=request.description,
        scope=request.scope,
        received_at=request.received_at,
        routing=part.as_record(),
        linked_request_id=request.id,
        job_ids=[],
        results={},
        timeline=[],
    )
    handling.set_clock(twin, handling.clock_of(request))
    handling.note(twin, ctx, "received", linked_request_id=str(request.id), reason=part.reason)
    # Verified, or not, as the organisation's part is: the subject is the same person.
    handling.admit(twin, ctx, verified=verified, reason=part.reason)
    session.add(twin)
    session.flush()
    RECORDER.record(
        session,
        ctx,
        twin,
        FacitoRequestAction.File,
        organisation_id=str(request.organisation_id),
        linked_request_id=str(request.id),
        routing=part.rule,
        due_at=twin.due_at.isoformat(),
    )
    return twin


def cancel_linked_part(
    session: Session, ctx: RequestContext, request: SubjectRequest, *, reason: str | None
) -> bool:
    """Cancel the DPO's part of a cancelled organisation request, unless already answered;
    whether it was cancelled."""
    twin = session.scalars(
        select(FacitoSubjectRequest)
        .where(
            FacitoSubjectRequest.id == request.linked_request_id,
            FacitoSubjectRequest.linked_request_id == request.id,
        )
        .with_for_update()
    ).first()
    if twin is None or not lifecycle.is_open(twin.status):
        return False
    handling.cancel(
        twin,
        ctx,
        reason=reason,
        linked_request_id=str(request.id),
        because="the linked request in the organisation's queue was cancelled",
    )
    session.flush()
    RECORDER.record(
        session, ctx, twin, FacitoRequestAction.Cancel, linked_request_id=str(request.id)
    )
    return True


# --- intake ---------------------------------------------------------------------------------


def _requester(ctx: RequestContext) -> RequesterKind:
    # Support engineers record what reached them; the DPO files as the DPO.
    if AppRole.FacitoPrivacyOfficer in ctx.principal.roles:
        return RequesterKind.facito_dpo
    return RequesterKind.facito_support


def _open_duplicate(
    session: Session, *, email: str, kind: RequestKind
) -> FacitoSubjectRequest | None:
    """An open request of a personal subject with this e-mail address, of ``kind``."""
    return session.scalars(
        select(FacitoSubjectRequest)
        .where(
            FacitoSubjectRequest.subject_organisation_id.is_(None),
            FacitoSubjectRequest.kind == kind,
            FacitoSubjectRequest.status.in_(OPEN_STATUSES),
            func.lower(FacitoSubjectRequest.subject_identity["email"].as_string()) == email.lower(),
        )
        .order_by(FacitoSubjectRequest.id)
        .limit(1)
        .with_for_update()
    ).first()


def _serialise_filings(session: Session, *, email: str) -> None:
    # No account row to lock: filings for one e-mail address serialise on a lock of their own,
    # or two at once would both find no open request and both create one. Taken before any
    # row, as the chain head comes after rows (jobs/__init__.py): holding Facito's chain while
    # waiting for the open request deadlocked with a handler holding it, waiting for the chain.
    # On SQLite the write transaction already holds the database's write lock.
    if session.get_bind().dialect.name == "postgresql":
        key = func.hashtextextended(f"dsr-personal:{email.lower()}", 0)
        session.execute(select(func.pg_advisory_xact_lock(key)))


def file_request(
    session: Session,
    ctx: RequestContext,
    *,
    display_name: str,
    email: str,
    kind: RequestKind,
    description: str,
    scope: dict[str, Any],
    channel: Channel,
) -> Filed[FacitoSubjectRequest]:
    """File a personal subject's request in the DPO queue (from what reached the DPO or
    support by ``channel``); an open one of the same kind for the same e-mail is joined."""
    scope = handling.check_scope(kind, scope)
    requester = _requester(ctx)
    _serialise_filings(session, email=email)
    existing = _open_duplicate(session, email=email, kind=kind)
    if existing is not None:
        handling.filed_again(
            existing, ctx, requester_kind=requester, channel=channel, description=description
        )
        session.flush()
        RECORDER.record(session, ctx, existing, FacitoRequestAction.Link, channel=channel.value)
        return Filed(existing, created=False)

    now = utcnow()
    # A personal account has no contract: the statement in force alone sets the days.
    terms = statement_terms(session, at=now)
    parameters: dict[str, Any] = {} if terms is None else dict(terms.parameters)
    clock = handling.start_clock(parameters.get, received_at=now)
    [part] = routing.route(kind, routing.Subject(organisation_managed=False))
    request = FacitoSubjectRequest(
        reference=handling.new_reference(),
        kind=kind,
        status=RequestStatus.received,
        subject_organisation_id=None,
        subject_account_id=None,
        subject_identity={"display_name": display_name, "email": email},
        requester_kind=requester,
        requester_id=ctx.principal.client_key[:200],
        requester_display=ctx.principal.display_name[:200],
        guardian_consent_id=None,
        channel=channel,
        description=description,
        scope=scope,
        received_at=now,
        routing=part.as_record() | {"parts": [part.queue.value]},
        job_ids=[],
        results={},
        timeline=[],
    )
    handling.set_clock(request, clock)
    handling.note(
        request,
        ctx,
        "received",
        requester_kind=requester.value,
        channel=channel.value,
        due_at=clock.due_at.isoformat(),
        response_days=clock.response_days,
    )
    handling.admit(request, ctx, verified=channel not in UNVERIFIED_CHANNELS, reason=part.reason)
    session.add(request)
    session.flush()
    RECORDER.record(
        session,
        ctx,
        request,
        FacitoRequestAction.File,
        channel=channel.value,
        requester_kind=requester.value,
        routing=part.rule,
        due_at=request.due_at.isoformat(),
    )
    return Filed(request, created=True)


# --- reading --------------------------------------------------------------------------------


def list_requests(
    session: Session, *, where: RequestFilter, limit: int, cursor: str | None
) -> Page[FacitoSubjectRequest]:
    """The DPO queue, newest first, filtered."""
    return paginate(
        session,
        filtered(select(FacitoSubjectRequest), FacitoSubjectRequest, where, now=utcnow()),
        keys=[FacitoSubjectRequest.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def get_request(session: Session, *, request_id: uuid.UUID) -> FacitoSubjectRequest:
    """One request of the DPO queue, or 404."""
    found = session.get(FacitoSubjectRequest, request_id)
    if found is None:
        raise NotFound("no such data-subject request")
    return found


def lock_request(session: Session, *, request_id: uuid.UUID) -> FacitoSubjectRequest:
    """One request of the DPO queue, locked for a change (fresh from the database), or 404."""
    found = session.scalars(
        select(FacitoSubjectRequest)
        .where(FacitoSubjectRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise NotFound("no such data-subject request")
    return found


# --- handling -------------------------------------------------------------------------------


def verify_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, method: str, note: str | None
) -> FacitoSubjectRequest:
    """Record that the subject's identity was verified: the request is routed."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.verify(RECORDER, session, ctx, request, method=method, note=note)


def assign_request(
    session: Session,
    ctx: RequestContext,
    *,
    request_id: uuid.UUID,
    assignee_object_id: str | None,
    assignee_name: str | None,
) -> FacitoSubjectRequest:
    """Give the request to a handler at Facito (the caller when none is named)."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.assign(
        RECORDER,
        session,
        ctx,
        request,
        assignee_object_id=assignee_object_id,
        assignee_name=assignee_name,
    )


def extend_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, days: int, reason: str
) -> FacitoSubjectRequest:
    """Extend the response time (within the statement's maximum, before the original due)."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.extend(RECORDER, session, ctx, request, days=days, reason=reason)


def await_subject(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, message: str
) -> FacitoSubjectRequest:
    """Ask the subject for something; the clock stops until they answer."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.await_subject(RECORDER, session, ctx, request, message=message)


def resume_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, message: str | None
) -> FacitoSubjectRequest:
    """Go on with a request that awaited the subject; the clock runs again."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.resume(RECORDER, session, ctx, request, message=message)


def complete_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, summary: str
) -> FacitoSubjectRequest:
    """Answer the request as done, with a summary the subject reads."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.complete(RECORDER, session, ctx, request, summary=summary)


def reject_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, reasons: list[str]
) -> FacitoSubjectRequest:
    """Refuse the request with reasons; the answer names the right to complain."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.reject(RECORDER, session, ctx, request, reasons=reasons)


def cancel_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, reason: str | None
) -> FacitoSubjectRequest:
    """Cancel a request filed by mistake or withdrawn by the subject.

    The DPO cancels its own part only: an organisation's part is the organisation's to
    answer (it is the controller there).
    """
    request = lock_request(session, request_id=request_id)
    handling.cancel(request, ctx, reason=reason)
    session.flush()
    RECORDER.record(session, ctx, request, FacitoRequestAction.Cancel)
    return request


# --- deadlines ------------------------------------------------------------------------------


def warn_of_deadlines(
    session: Session, ctx: RequestContext, *, now: datetime, days_before: int
) -> int:
    """Record the DPO queue's requests due soon and overdue, each once per request, on the
    request (its timeline) and on Facito's chain; how many notices."""
    return queue_handling.warn_of_deadlines(
        RECORDER, session, ctx, now=now, days_before=days_before
    )
