"""Reading and cancelling an organisation's jobs (enqueueing is jobs.queue.enqueue_job)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..db.tenancy import require_organisation
from ..errors import InvalidState, NotFound
from ..tenants.lookups import get_organisation
from .actions import JobAction
from .models import FINISHED_STATES, Job, JobState


class JobFinished(InvalidState):
    code, title = "job-finished", "The job has already finished"


def get_job(session: Session, *, job_id: uuid.UUID) -> Job:
    """One job of the session's organisation, with its progress and outcome."""
    job = session.get(Job, (require_organisation(session), job_id), populate_existing=True)
    if job is None:
        raise NotFound("no such job")
    return job


def list_jobs(
    session: Session,
    *,
    kind: str | None,
    state: JobState | None,
    limit: int,
    cursor: str | None,
) -> Page[Job]:
    """The organisation's jobs, newest first, optionally of one kind and state."""
    # Staff reach any organisation id: one that does not exist is a 404, not an empty list.
    get_organisation(session, organisation_id=require_organisation(session))
    query = select(Job)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if state is not None:
        query = query.where(Job.state == state)
    return paginate(session, query, keys=[Job.id], limit=limit, cursor=cursor, descending=True)


def _update(session: Session, statement: Any) -> int:
    result = cast(
        CursorResult[Any],
        session.execute(statement.execution_options(synchronize_session=False)),
    )
    return result.rowcount


def cancel_job(session: Session, ctx: RequestContext, *, job_id: uuid.UUID) -> Job:
    """Cancel a queued job at once, or ask a running one to stop at its next step."""
    job = get_job(session, job_id=job_id)
    if job.state in FINISHED_STATES:
        raise JobFinished(f"the job has already finished ({job.state.value})")
    # The event first: lock order is audit chain head, then job row, as in a running
    # handler's step (record_event, then commit_step). The reverse deadlocks on PostgreSQL.
    record_event(
        session,
        ctx,
        action=JobAction.JobCancel,
        target_type="job",
        target_id=job.id,
        details={"kind": job.kind},
    )
    # Conditional UPDATEs, not read-then-write: a worker may claim or finish the job at any
    # moment, and each statement re-checks the state it changes.
    cancelled = _update(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.queued)
        .values(state=JobState.cancelled, cancel_requested=True, finished_at=utcnow(), lease=None),
    ) or _update(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.running)
        .values(cancel_requested=True),
    )
    job = get_job(session, job_id=job_id)
    if not cancelled:
        # Finished meanwhile: the error rolls the event back with the rest.
        raise JobFinished(f"the job has already finished ({job.state.value})")
    return job
