"""Background jobs: a `jobs` table as the source of truth, huey as the transport.

How a domain runs work in the background
----------------------------------------
1. Register a handler for a job kind, in a module that its domain lists under ``jobs`` in
   ``facito_admin/domains.py`` (so that the web process and every worker import it)::

       from facito_admin.jobs import JobContext, JobFailed, job_handler

       @job_handler("directory-sync")
       def sync_directory(session: Session, ctx: JobContext) -> dict[str, Any]:
           link = (ctx.checkpoint or {}).get("next_link") or first_link(ctx.params)
           while link:
               ctx.raise_if_cancelled()
               page = fetch(link)               # outside any transaction (see below)
               upsert(session, page)            # the step's work, in ``session``
               link = page.next_link
               ctx.commit_step(checkpoint={"next_link": link}, done=…, total=…)
           return {"created": …, "updated": …}  # the job's result (JSON)

   ``session`` is a write session bound to the job's organisation. ``ctx.commit_step()``
   commits the session's work together with the checkpoint and progress: both or neither.
   A later attempt (after a crash, a lost worker, a retry) starts with ``ctx.checkpoint`` of
   the last committed step; ``ctx.resumed`` tells it so. Work after the last step and the
   result are committed together when the handler returns. ``ctx.params`` is read-only.
   ``ctx.progress(done, total)`` is cheap (written by the heartbeat and the next step).
   ``ctx.request`` is the RequestContext for ``record_event`` (actor: the system, request id
   ``job:<id>``). Audit events of the work belong in the step that does the work.

   On SQLite a write transaction holds the database's write lock from its first statement:
   do slow I/O (Graph, DNS) before touching the session, or end a read-only transaction
   first with ``db.session.end_read_snapshot(session)``. On PostgreSQL mind the lock order
   of a step: domain rows, then the audit chain head (record_event), then the job row
   (commit_step). A service that changes a job row and records an event records the event
   first (service.cancel_job), or it deadlocks with a running step.

2. Enqueue from a service, inside the request's transaction::

       job = enqueue_job(session, ctx, kind="directory-sync", params={"federation_id": …})
       record_event(session, ctx, action=…, target_type="job", target_id=job.id, …)

   The row is inserted now; the queue message is sent only after the transaction commits
   (nothing is sent on rollback). ``enqueue_job`` records no audit event: the caller's own
   event is the request's one event and should name the job. Params are shown to anyone who
   may read the organisation's jobs: never put secrets in them.

3. Failures: any exception rolls back the uncommitted step and retries the job with doubling
   backoff until ``max_attempts`` (default 3) runs were started; then it is ``failed``.
   ``raise JobFailed("message", retry=False)`` fails at once. The organisation sees the
   message of JobFailed or of a domain error (errors.py), otherwise only "internal error
   (TypeName)"; tracebacks go to the worker's log.

4. Cancellation is cooperative: ``POST …/jobs/{id}/cancel`` cancels a queued job at once and
   sets ``cancel_requested`` on a running one; the handler calls
   ``ctx.raise_if_cancelled()`` between steps (committed steps stay done).

5. Periodic work: ``@periodic_job("name", minute="*/15")`` on ``fn(runtime) -> None``; find
   due organisations with ``cross_organisation_session`` and enqueue one job per organisation
   in ``unit_of_work(runtime, organisation_id=…)`` with ``ctx=system_context("name")``.

Guarantees: tasks carry only (organisation_id, job_id) and are idempotent: a message for a
finished, cancelled, unknown or live-running job does nothing. A job is claimed by one atomic
UPDATE and carries its worker's lease; every later write checks the lease, so a worker
presumed dead cannot overwrite its successor. The runner heartbeats from a thread; the reaper
(every minute) re-queues running jobs whose heartbeat is older than FACITO_JOB_STALE_SECONDS
(a dead worker counts as an attempt) and re-sends queued jobs that waited longer than
FACITO_JOB_QUEUED_STALE_SECONDS. Handlers therefore run at least once per attempt and must be
idempotent per step: redoing the uncommitted step must be harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.context import RequestContext
from ..db.base import utcnow
from ..db.session import unit_of_work
from ..runtime import Runtime
from ..tenants.models import Organisation, OrganisationStatus
from .context import JobCancelled, JobContext, JobFailed, LeaseLost, job_principal
from .models import ACTIVE_STATES, Job, JobState
from .queue import JobQueue, enqueue_job
from .registry import job_handler, periodic_job


def job_under_way(session: Session, kind: str) -> Job | None:
    """The organisation's queued or running job of ``kind``, if any (periodic scans enqueue
    one at a time per organisation)."""
    return session.scalar(
        select(Job).where(Job.kind == kind, Job.state.in_(ACTIVE_STATES)).limit(1)
    )


def enqueue_once_per_organisation(
    runtime: Runtime,
    organisation_ids: Iterable[uuid.UUID],
    *,
    kind: str,
    scan: str,
    still_due: Callable[[Session], bool] | None = None,
) -> int:
    """A periodic scan's enqueue: one ``kind`` job for each organisation that has none queued
    or running (and for which ``still_due`` holds, checked in its own session); how many.

    An offboarded organisation past its return period is left out: what remains of it is the
    offboarding deletion's to remove (and what holds keep, to keep), and a scan's job would
    write it new rows.
    """
    enqueued = 0
    for organisation_id in organisation_ids:
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            if _past_its_return_period(session, organisation_id):
                continue
            if still_due is not None and not still_due(session):
                continue
            if job_under_way(session, kind) is not None:
                continue
            enqueue_job(session, system_context(scan), kind=kind)
            enqueued += 1
    return enqueued


def _past_its_return_period(session: Session, organisation_id: uuid.UUID) -> bool:
    return_until = session.scalar(
        select(Organisation.data_return_until).where(
            Organisation.id == organisation_id,
            Organisation.status == OrganisationStatus.offboarded,
        )
    )
    return return_until is not None and return_until <= utcnow()


def system_context(name: str) -> RequestContext:
    """The context of work that no caller asked for (periodic jobs): actor is the system."""
    return RequestContext(principal=job_principal(name), request_id=f"periodic:{name}")


__all__ = [
    "Job",
    "JobCancelled",
    "JobContext",
    "JobFailed",
    "JobQueue",
    "JobState",
    "LeaseLost",
    "enqueue_job",
    "enqueue_once_per_organisation",
    "job_handler",
    "job_under_way",
    "periodic_job",
    "system_context",
]
