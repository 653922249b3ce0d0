"""Running one job: claim it atomically, heartbeat while the handler works, record how it ended.

Heartbeats come from a thread per running job rather than from progress() or commit_step()
calls: a handler may legitimately spend minutes inside one step (a throttled Graph call
honouring Retry-After, a large bulk upsert), and its liveness should not depend on how often
it reports. The thread writes in its own short transaction, also publishing in-memory
progress and picking up cancellation requests. A hung handler keeps beating; that is the
price, and the reason for cancellation and attempt limits.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import structlog
from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from ..db.base import utcnow
from ..db.session import unit_of_work
from ..errors import DomainError
from .context import JobCancelled, JobContext, JobFailed, LeaseLost, json_value
from .metrics import JOB_ATTEMPTS, JOB_DURATION
from .models import Job, JobState
from .queue import send_after_commit
from .registry import handler_for

if TYPE_CHECKING:
    from .queue import JobQueue

log = structlog.get_logger("facito_admin.jobs")


def _updated(session: Session, statement: Any) -> CursorResult[Any]:
    return cast(
        CursorResult[Any],
        session.execute(statement.execution_options(synchronize_session=False)),
    )


def _claim(queue: JobQueue, organisation_id: uuid.UUID, job_id: uuid.UUID, lease: uuid.UUID) -> Any:
    """Take the job for this worker, or None when it is not ours to run (one atomic UPDATE).

    Queued jobs, and running ones whose worker stopped heartbeating, can be claimed; a job
    that is running under a live worker, finished, or unknown cannot, so duplicate messages
    do nothing.
    """
    now = utcnow()
    stale = now - timedelta(seconds=queue.timing.stale_seconds)
    with unit_of_work(queue.runtime, organisation_id=organisation_id) as session:
        return _updated(
            session,
            update(Job)
            .where(
                Job.id == job_id,
                Job.cancel_requested.is_(False),
                Job.attempts < Job.max_attempts,
                or_(
                    Job.state == JobState.queued,
                    and_(Job.state == JobState.running, Job.heartbeat_at < stale),
                ),
            )
            .values(
                state=JobState.running,
                lease=lease,
                attempts=Job.attempts + 1,
                started_at=func.coalesce(Job.started_at, now),
                heartbeat_at=now,
            )
            .returning(
                Job.kind,
                Job.params,
                Job.checkpoint,
                Job.attempts,
                Job.max_attempts,
                Job.progress_done,
                Job.progress_total,
            ),
        ).first()


_HEARTBEAT_STOP_SECONDS = 1.0


class _Heartbeat(threading.Thread):
    def __init__(self, queue: JobQueue, ctx: JobContext) -> None:
        super().__init__(name=f"job-heartbeat-{ctx.job_id}", daemon=True)
        self._queue = queue
        self._ctx = ctx
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self._queue.timing.heartbeat_seconds):
            try:
                with unit_of_work(
                    self._queue.runtime, organisation_id=self._ctx.organisation_id
                ) as session:
                    self._ctx.write_job_row(session, {})
            except LeaseLost:
                # After stop() the job itself has ended the lease: nothing was lost.
                if not self._stop_event.is_set():
                    log.warning("job_lease_lost", job_id=str(self._ctx.job_id))
                return
            except Exception:
                # A missed beat (database busy or down) is retried; the reaper judges silence.
                log.exception("job_heartbeat_failed", job_id=str(self._ctx.job_id))

    def stop(self) -> None:
        self._stop_event.set()
        # Not an unbounded join: a beat may be waiting for a lock that the job's own open
        # transaction holds (SQLite's write lock, a PostgreSQL row lock on the job), which is
        # released only after this returns. That beat then finds the lease ended and stops.
        self.join(timeout=_HEARTBEAT_STOP_SECONDS)


def run_job(queue: JobQueue, organisation_id: uuid.UUID, job_id: uuid.UUID) -> None:
    """The huey task's body: run the job if it is ours to run, else do nothing."""
    lease = uuid.uuid4()
    claimed = _claim(queue, organisation_id, job_id, lease)
    if claimed is None:
        log.info("job_not_claimed", job_id=str(job_id))
        return
    session = queue.runtime.session(organisation_id=organisation_id, write=True)
    ctx = JobContext(
        organisation_id=organisation_id,
        job_id=job_id,
        kind=claimed.kind,
        params=claimed.params or {},
        checkpoint=claimed.checkpoint,
        attempt=claimed.attempts,
        max_attempts=claimed.max_attempts,
        progress_done=claimed.progress_done,
        progress_total=claimed.progress_total,
        lease=lease,
        session=session,
    )
    log.info("job_started", job_id=str(job_id), kind=ctx.kind, attempt=ctx.attempt)
    started = time.perf_counter()
    outcome = "failed"
    try:
        outcome = _run_handler(queue, session, ctx)
    finally:
        session.close()
        JOB_ATTEMPTS.labels(ctx.kind, outcome).inc()
        JOB_DURATION.labels(ctx.kind).observe(time.perf_counter() - started)


def _call(session: Session, ctx: JobContext, heartbeat: _Heartbeat) -> dict[str, Any]:
    heartbeat.start()
    try:
        handler = handler_for(ctx.kind)
        if handler is None:
            raise JobFailed(f"this worker cannot run jobs of kind {ctx.kind!r}")
        return handler(session, ctx)
    finally:
        # Stopped before the outcome is written: that write ends the lease, and a beat
        # after it would only report a lost lease.
        heartbeat.stop()


def _run_handler(queue: JobQueue, session: Session, ctx: JobContext) -> str:
    """Run the handler and record how it ended; return that outcome (for the metrics)."""
    try:
        result = _call(session, ctx, _Heartbeat(queue, ctx))
        if ctx.lease_lost:
            raise LeaseLost(str(ctx.job_id))
        stored = json_value(result if result is not None else {}, "a job's result")
        ctx.write_job_row(
            session,
            {
                "state": JobState.succeeded,
                "result": stored,
                "error": None,
                "finished_at": utcnow(),
                "lease": None,
            },
        )
        session.commit()
    except LeaseLost:
        session.rollback()
        log.warning("job_taken_over", job_id=str(ctx.job_id), kind=ctx.kind)
        return "taken_over"
    except JobCancelled:
        session.rollback()
        _end(queue, ctx, state=JobState.cancelled, error=None)
        log.info("job_cancelled", job_id=str(ctx.job_id), kind=ctx.kind)
        return "cancelled"
    except Exception as exc:
        # Whatever the handler raised is recorded on the job (retry or fail), never re-raised.
        session.rollback()
        log.exception("job_attempt_failed", job_id=str(ctx.job_id), kind=ctx.kind)
        return _record_failure(queue, ctx, exc)
    log.info("job_succeeded", job_id=str(ctx.job_id), kind=ctx.kind)
    return "succeeded"


def safe_error(exc: BaseException) -> str:
    """A message for the organisation: a handler's own words, never a traceback or SQL."""
    if isinstance(exc, JobFailed):
        return exc.message[:2000]
    if isinstance(exc, DomainError):
        return exc.detail[:2000]
    return f"internal error ({type(exc).__name__}); the details are in the worker's log"


def _end(queue: JobQueue, ctx: JobContext, *, state: JobState, error: str | None) -> None:
    try:
        with unit_of_work(queue.runtime, organisation_id=ctx.organisation_id) as session:
            ctx.write_job_row(
                session, {"state": state, "error": error, "finished_at": utcnow(), "lease": None}
            )
    except LeaseLost:
        log.warning("job_taken_over", job_id=str(ctx.job_id), kind=ctx.kind)


def _record_failure(queue: JobQueue, ctx: JobContext, exc: Exception) -> str:
    """Retry with backoff while attempts remain, else fail; a cancel request wins over both.

    Returns the outcome: retry, failed, cancelled or taken_over.
    """
    message = safe_error(exc)
    retry = not (isinstance(exc, JobFailed) and not exc.retry)
    try:
        with unit_of_work(queue.runtime, organisation_id=ctx.organisation_id) as session:
            cancel = session.scalar(select(Job.cancel_requested).where(Job.id == ctx.job_id))
            if cancel:
                outcome = "cancelled"
                ctx.write_job_row(
                    session,
                    {
                        "state": JobState.cancelled,
                        "error": message,
                        "finished_at": utcnow(),
                        "lease": None,
                    },
                )
            elif retry and ctx.attempt < ctx.max_attempts:
                outcome = "retry"
                delay = queue.timing.backoff(ctx.attempt)
                ctx.write_job_row(
                    session,
                    {
                        "state": JobState.queued,
                        "error": message,
                        "available_at": utcnow() + timedelta(seconds=delay),
                        "lease": None,
                    },
                )
                send_after_commit(session, ctx.organisation_id, ctx.job_id, delay=delay)
                log.info("job_retry_scheduled", job_id=str(ctx.job_id), delay=delay)
            else:
                outcome = "failed"
                ctx.write_job_row(
                    session,
                    {
                        "state": JobState.failed,
                        "error": message,
                        "finished_at": utcnow(),
                        "lease": None,
                    },
                )
                log.warning("job_failed", job_id=str(ctx.job_id), kind=ctx.kind)
    except LeaseLost:
        log.warning("job_taken_over", job_id=str(ctx.job_id), kind=ctx.kind)
        return "taken_over"
    return outcome
