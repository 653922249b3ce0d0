"""The handling actions of either queue, once: change the locked request (handling.py), record
the audit event, tell the organisation's systems, all in the caller's transaction.

What differs by queue is its Recorder: the chain the events go to (the organisation's, or
Facito's own) with its action names, and its webhooks (the DPO queue has none).
service.py and facito_service.py lock their own table's row and call these functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.context import RequestContext
from ..jobs import Job
from ..jobs.models import ACTIVE_STATES
from ..webhooks.events import WebhookEventType
from . import handling
from .actions import FacitoRequestAction, RequestAction
from .filters import notice_candidates
from .handling import DeadlineNotice, R, StatusNotAllowed
from .models import RequestColumns

Publish = Callable[[Session, Any, WebhookEventType, dict[str, Any]], None]


@dataclass(frozen=True)
class Recorder(Generic[R]):
    """Where one queue records what its handlers do, and whom it tells."""

    model: type[R]
    # audit.service.record_event, or audit.facito_log.record_facito_event.
    record_event: Callable[..., object]
    actions: type[RequestAction] | type[FacitoRequestAction]
    # None: nobody to tell (the DPO queue belongs to no organisation).
    publish: Publish | None = None

    def record(
        self, session: Session, ctx: RequestContext, request: R, action: str, **details: Any
    ) -> None:
        """The audit event of ``action`` on ``request`` (``details``: ids, counts, dates)."""
        self.record_event(
            session,
            ctx,
            action=action,
            target_type=handling.TARGET_TYPE,
            target_id=request.id,
            details=handling.audit_details(request, **details),
        )

    def tell(self, session: Session, request: R, event: WebhookEventType, **extra: Any) -> None:
        """The webhook ``event`` of ``request``, if the queue has anyone to tell."""
        if self.publish is not None:
            self.publish(session, request, event, extra)


def fulfilment_under_way(session: Session, request: RequestColumns) -> Job | None:
    """The request's fulfilment job still queued or running, if any."""
    if not request.job_ids:
        return None
    return session.scalar(
        select(Job).where(
            Job.id.in_([uuid.UUID(j) for j in request.job_ids]),
            Job.state.in_(ACTIVE_STATES),
        )
    )


def verify(
    queue: Recorder[R],
    session: Session,
    ctx: RequestContext,
    request: R,
    *,
    method: str,
    note: str | None,
) -> R:
    """Record that the subject's identity was verified: the request is routed."""
    handling.verify(request, ctx, method=method, note_text=note)
    session.flush()
    queue.record(session, ctx, request, queue.actions.Verify, method=method)
    queue.tell(session, request, WebhookEventType.DsrReceived)
    return request


def assign(
    queue: Recorder[R],
    session: Session,
    ctx: RequestContext,
    request: R,
    *,
    assignee_object_id: str | None,
    assignee_name: str | None,
) -> R:
    """Give the request to a handler (the caller when none is named)."""
    # A person of the caller's own tenant, by their Entra object id.
    assignee_id, display = handling.assignee_of(ctx.principal, assignee_object_id, assignee_name)
    handling.assign(request, ctx, assignee_id=assignee_id, display=display)
    session.flush()
    # The assignee by id: a name stays out of the hash chain (erasable, GDPR art. 17).
    queue.record(session, ctx, request, queue.actions.Assign, assignee_id=request.assignee_id)
    return request


def extend(
    queue: Recorder[R], session: Session, ctx: RequestContext, request: R, *, days: int, reason: str
) -> R:
    """Extend the response time (within the policy's maximum, before the original due)."""
    handling.extend(request, ctx, days=days, reason=reason)
    session.flush()
    due_at = request.due_at.isoformat()
    queue.record(session, ctx, request, queue.actions.Extend, days=days, due_at=due_at)
    queue.tell(session, request, WebhookEventType.DsrExtended, extension_days=days, reason=reason)
    return request


def await_subject(
    queue: Recorder[R], session: Session, ctx: RequestContext, request: R, *, message: str
) -> R:
    """Ask the subject for something; the clock stops until they answer."""
    handling.await_subject(request, ctx, message=message)
    session.flush()
    queue.record(session, ctx, request, queue.actions.AwaitSubject)
    return request


def resume(
    queue: Recorder[R], session: Session, ctx: RequestContext, request: R, *, message: str | None
) -> R:
    """Go on with a request that awaited the subject; the clock runs again."""
    handling.resume(request, ctx, message=message)
    session.flush()
    queue.record(session, ctx, request, queue.actions.Resume, due_at=request.due_at.isoformat())
    return request


def complete(
    queue: Recorder[R], session: Session, ctx: RequestContext, request: R, *, summary: str
) -> R:
    """Answer the request as done, with a summary the subject reads."""
    if fulfilment_under_way(session, request) is not None:
        raise StatusNotAllowed("the request's fulfilment is still queued or running")
    handling.complete(request, ctx, summary=summary)
    session.flush()
    queue.record(session, ctx, request, queue.actions.Complete)
    queue.tell(session, request, WebhookEventType.DsrCompleted)
    return request


def reject(
    queue: Recorder[R], session: Session, ctx: RequestContext, request: R, *, reasons: list[str]
) -> R:
    """Refuse the request with reasons; the answer names the right to complain."""
    if fulfilment_under_way(session, request) is not None:
        raise StatusNotAllowed("the request's fulfilment is still queued or running")
    handling.reject(request, ctx, reasons=reasons)
    session.flush()
    # How many reasons, not what they say (free text stays off the chain).
    count = len(request.rejection_reasons or [])
    queue.record(session, ctx, request, queue.actions.Reject, reasons=count)
    queue.tell(session, request, WebhookEventType.DsrRejected)
    return request


_NOTICE_EVENTS = {
    DeadlineNotice.due_soon: WebhookEventType.DsrDueSoon,
    DeadlineNotice.overdue: WebhookEventType.DsrOverdue,
}


def warn_of_deadlines(
    queue: Recorder[R], session: Session, ctx: RequestContext, *, now: datetime, days_before: int
) -> int:
    """Give the queue's requests due soon and overdue their notice, each once per request: on
    the request (its timeline), the chain and the webhooks; how many notices."""
    told = 0
    for request in session.scalars(
        notice_candidates(queue.model, now=now, days_before=days_before)
    ):
        notice = handling.deadline_notice(request, now=now, days_before=days_before)
        if notice is None:
            continue
        handling.record_notice(request, ctx, notice)
        session.flush()
        overdue = notice is DeadlineNotice.overdue
        action = queue.actions.Overdue if overdue else queue.actions.DueSoon
        queue.record(session, ctx, request, action, due_at=request.due_at.isoformat())
        queue.tell(session, request, _NOTICE_EVENTS[notice])
        told += 1
    return told
