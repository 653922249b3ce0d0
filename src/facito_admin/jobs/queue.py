"""The huey queue and enqueueing: a job row now, its queue message once the transaction commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from huey import Huey, RedisHuey, SqliteHuey
from huey.storage import RedisStorage
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction

from ..auth.context import RequestContext
from ..config import Settings
from ..db.base import utcnow
from ..db.tenancy import (
    TenancyViolation,
    is_cross_organisation,
    require_organisation,
    session_organisation,
)
from ..runtime import Runtime, runtime_of
from .context import json_value
from .models import Job, JobState
from .registry import handler_for

log = structlog.get_logger("facito_admin.jobs")

_PENDING_KEY = "jobs_to_send_after_commit"
MAX_ATTEMPTS_LIMIT = 20


@dataclass(frozen=True)
class JobTiming:
    """Heartbeats, staleness and retry backoff, from settings (tests shorten them)."""

    heartbeat_seconds: float = 15.0
    stale_seconds: float = 120.0
    queued_stale_seconds: float = 300.0
    retry_backoff_seconds: float = 10.0
    retry_backoff_max_seconds: float = 600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> JobTiming:
        return cls(
            heartbeat_seconds=settings.job_heartbeat_seconds,
            stale_seconds=settings.job_stale_seconds,
            queued_stale_seconds=settings.job_queued_stale_seconds,
            retry_backoff_seconds=settings.job_retry_backoff_seconds,
            retry_backoff_max_seconds=settings.job_retry_backoff_max_seconds,
        )

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones: doubling, capped."""
        delay = self.retry_backoff_seconds * 2 ** max(attempts - 1, 0)
        return float(min(delay, self.retry_backoff_max_seconds))


def huey_file(settings: Settings) -> Path:
    """The SQLite queue file: beside a SQLite database, else in the instance folder."""
    if settings.huey_url and settings.huey_url.startswith("sqlite:///"):
        return Path(settings.huey_url.removeprefix("sqlite:///"))
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        database_file = Path(url.database)
        return database_file.with_name(f"{database_file.stem}-huey.db")
    return settings.instance_path.resolve() / "huey.db"


def build_huey(settings: Settings) -> Huey:
    """RedisHuey for `redis://…` (production, many consumers), SqliteHuey otherwise."""
    # results=False: tasks report through the jobs table, the queue keeps no results.
    url = settings.huey_url
    if url and not url.startswith("sqlite:///"):
        return RedisHuey(settings.huey_name, url=url, results=False)
    path = huey_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(settings.huey_name, filename=str(path), results=False)


class JobQueue:
    """A huey instance and the jobs' timing; ``jobs.tasks.install_tasks`` gives it its tasks.

    Installing binds the queue to the runtime whose sessions its tasks open (the runner, the
    reaper, the domains' periodic jobs), and registers the task a ``send`` puts on the queue.
    """

    def __init__(self, huey: Huey, timing: JobTiming) -> None:
        self.huey = huey
        self.timing = timing
        self._runtime: Runtime | None = None
        self._run_task: Any = None
        # Calling it queues a reap at once (tests; the consumer runs it every minute).
        self.reap_task: Any = None

    def describe(self) -> str:
        """Where the queue lives, for a start-up line (no password)."""
        storage = self.huey.storage
        if isinstance(storage, RedisStorage):
            kwargs = storage.conn.connection_pool.connection_kwargs
            where = f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
            where += f"/{kwargs.get('db', 0)}"
        else:
            where = f"sqlite {getattr(storage, 'filename', '?')}"
        return f"{self.huey.name} on {where}"

    def bind(self, runtime: Runtime, *, run_task: Any, reap_task: Any) -> None:
        """Take the runtime the tasks work in and the tasks themselves (install_tasks)."""
        self._runtime = runtime
        self._run_task = run_task
        self.reap_task = reap_task

    @property
    def runtime(self) -> Runtime:
        """The runtime the queue's tasks open their sessions through."""
        if self._runtime is None:
            raise RuntimeError("the queue has no tasks yet (jobs.tasks.install_tasks)")
        return self._runtime

    def send(self, organisation_id: uuid.UUID, job_id: uuid.UUID, *, delay: float = 0) -> None:
        """Put one message for the job on the queue (duplicates are harmless)."""
        if self._run_task is None:
            raise RuntimeError("the queue has no tasks yet (jobs.tasks.install_tasks)")
        args = (str(organisation_id), str(job_id))
        if delay > 0:
            self._run_task.schedule(args, delay=delay)
        else:
            self._run_task(*args)


def queue_of(runtime: Runtime) -> JobQueue:
    """The runtime's queue as the consumers need it (huey, timing)."""
    if not isinstance(runtime.queue, JobQueue):
        raise TypeError("this runtime sends jobs through something that is not a JobQueue")
    return runtime.queue


def build_queue(settings: Settings) -> JobQueue:
    """The configured queue (huey on SQLite or Redis), without tasks yet."""
    return JobQueue(build_huey(settings), JobTiming.from_settings(settings))


def enqueue_job(
    session: Session,
    ctx: RequestContext,
    *,
    kind: str,
    params: dict[str, Any] | None = None,
    max_attempts: int = 3,
    delay: float = 0,
    organisation_id: uuid.UUID | None = None,
) -> Job:
    """Insert a queued job; its queue message is sent only if the transaction commits.

    Records no audit event: the caller's own event (the action that asked for the job) is
    the one event of the request and should name the job id in its details. ``delay``
    seconds hold the message back (the row is due then: ``available_at``).
    ``organisation_id`` is for a cross-organisation session (one bound to an organisation
    must name its own).
    """
    bound = session_organisation(session)
    if organisation_id is None:
        organisation_id = require_organisation(session)
    elif bound is not None and bound != organisation_id:
        raise TenancyViolation("this session serves another organisation")
    elif bound is None and not is_cross_organisation(session):
        raise TenancyViolation("this session serves no organisation")
    if handler_for(kind) is None:
        raise ValueError(f"no handler is registered for job kind {kind!r}")
    if not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT:
        raise ValueError(f"max_attempts must be 1 to {MAX_ATTEMPTS_LIMIT}")
    runtime_of(session)  # fail now, not after the commit
    principal = ctx.principal
    job = Job(
        organisation_id=organisation_id,
        kind=kind,
        state=JobState.queued,
        params=json_value(params or {}, "params"),
        max_attempts=max_attempts,
        available_at=utcnow() + timedelta(seconds=max(delay, 0)),
        created_by=principal.display_name[:200],
        created_by_oid=principal.object_id[:36],
    )
    session.add(job)
    session.flush()
    send_after_commit(session, organisation_id, job.id, delay=delay)
    return job


def send_after_commit(
    session: Session, organisation_id: uuid.UUID, job_id: uuid.UUID, *, delay: float = 0
) -> None:
    """Queue a message for the job once this session's transaction commits (not on rollback)."""
    session.info.setdefault(_PENDING_KEY, []).append((organisation_id, job_id, delay))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    for organisation_id, job_id, delay in pending:
        try:
            runtime_of(session).queue.send(organisation_id, job_id, delay=delay)
        except Exception:
            # The row is committed: the reaper sends its message later (queued_stale_seconds).
            log.exception("job_message_not_sent", job_id=str(job_id))


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    # after_commit has sent what a commit allowed; whatever is left when the outermost
    # transaction ends (rollback, close) belongs to rows that were never committed. A job
    # inserted inside a rolled-back savepoint still gets its message, which then finds no
    # row and does nothing (the runner tolerates unknown ids).
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
