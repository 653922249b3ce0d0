"""What every fulfilment job does around its own work: load the request, end with a record."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...accounts.models import Account
from ...db.base import utcnow
from ...errors import DomainError
from ...jobs import JobContext, JobFailed
from ...webhooks.events import WebhookEventType, publish_event
from .. import handling, lifecycle, service
from ..actions import RequestAction
from ..models import SubjectRequest


@contextmanager
def refusals() -> Iterator[None]:
    """A business rule that says no (a deleted account, a taken UPN) will say no again: the
    job fails at once, with the rule's words, instead of retrying."""
    try:
        yield
    except DomainError as refused:
        raise JobFailed(refused.detail, retry=False) from None


def load_request(session: Session, ctx: JobContext) -> SubjectRequest:
    """The job's request, locked for this step; the job fails when there is nothing to do."""
    try:
        request_id = uuid.UUID(str(ctx.params["request_id"]))
    except (KeyError, ValueError):
        raise JobFailed("the job names no data-subject request", retry=False) from None
    with refusals():
        subject = service.get_request(session, request_id=request_id).subject_account_id
        if subject is not None:
            # The subject's account before its request, the order a filing locks them in
            # (service._lock_live_account, then _open_duplicate): locking the account later,
            # as erasure and rectification do, deadlocked with a filing of the same kind.
            session.execute(select(Account.id).where(Account.id == subject).with_for_update())
        request = service.lock_request(session, request_id=request_id)
    if not lifecycle.is_open(request.status):
        raise JobFailed(f"the request is {request.status.value}: nothing to fulfil", retry=False)
    account_of(request)
    return request


def account_of(request: SubjectRequest) -> uuid.UUID:
    """The subject's account; the job fails for a request that names none."""
    if request.subject_account_id is None:
        raise JobFailed("the request names no account", retry=False)
    return request.subject_account_id


def finish(
    session: Session,
    ctx: JobContext,
    request: SubjectRequest,
    *,
    action: RequestAction,
    event: str,
    result: dict[str, Any],
    note: dict[str, Any],
    audit: dict[str, Any],
) -> dict[str, Any]:
    """Store ``result`` as the request's results of its kind, note ``event`` on the timeline
    (``note``: what the subject and the handler read) and record ``action`` (``audit``: ids,
    field names and counts only). Returns the stored result, the job's result too."""
    stored = {"job_id": str(ctx.job_id), "completed_at": utcnow().isoformat(), **result}
    request.results = {**request.results, request.kind.value: stored}
    handling.note(request, ctx.request, event, job_id=str(ctx.job_id), **note)
    session.flush()
    service.RECORDER.record(
        session,
        ctx.request,
        request,
        action,
        job_id=str(ctx.job_id),
        account_id=str(account_of(request)),
        **audit,
    )
    return stored


def tell_integrations(
    session: Session, request: SubjectRequest, event: WebhookEventType, **data: Any
) -> None:
    """The art. 19 webhook: the organisation's systems make their copies follow."""
    publish_event(
        session,
        organisation_id=request.organisation_id,
        event_type=event,
        data=service.webhook_data(request) | data,
    )
