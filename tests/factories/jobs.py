"""Test-only job handlers and a real huey queue (SQLite file, or Redis when configured).

The handlers record one audit event per step (`test:job:step`), committed with the step's
checkpoint: the audit log then shows exactly which steps ran and how often.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from huey import signals
from sqlalchemy import select
from sqlalchemy.orm import Session

from facito_admin.audit.models import AuditEvent
from facito_admin.audit.sealing import seal_organisation
from facito_admin.audit.service import record_event
from facito_admin.config import Settings, load_settings
from facito_admin.db.session import Database, unit_of_work
from facito_admin.jobs import JobContext, JobFailed, enqueue_job, job_handler
from facito_admin.jobs.models import Job, JobState
from facito_admin.jobs.queue import JobQueue, JobTiming, build_huey
from facito_admin.jobs.tasks import install_tasks
from facito_admin.jobs.worker import EmbeddedConsumer
from facito_admin.runtime import Runtime
from tests.factories.audit import admin_ctx

REDIS_URL = os.environ.get("FACITO_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[2]
# The `facito-admin` CLI as a process of its own, with these handlers loaded.
CLI = [sys.executable, "-m", "tests.integration.jobs.worker_process"]
STEP_ACTION = "test:job:step"
FAST = JobTiming(
    heartbeat_seconds=0.1,
    stale_seconds=1.0,
    queued_stale_seconds=1.0,
    retry_backoff_seconds=0.0,
    retry_backoff_max_seconds=0.0,
)

# Calls of each handler per job id, and gates that hold a `test.block` job, in this process.
calls: Counter[uuid.UUID] = Counter()
_calls_lock = threading.Lock()
gates: dict[uuid.UUID, threading.Event] = {}


def _called(ctx: JobContext) -> None:
    with _calls_lock:
        calls[ctx.job_id] += 1


@job_handler("test.steps")
def run_steps(session: Session, ctx: JobContext) -> dict[str, Any]:
    """`steps` steps; `fail_step` raises while attempt <= `fail_attempts`; `pause` per step."""
    _called(ctx)
    total = int(ctx.params["steps"])
    start = int((ctx.checkpoint or {}).get("next", 0))
    for step in range(start, total):
        ctx.raise_if_cancelled()
        record_event(
            session,
            ctx.request,
            action=STEP_ACTION,
            target_type="job",
            target_id=ctx.job_id,
            details={"step": step, "attempt": ctx.attempt},
        )
        if step == ctx.params.get("fail_step") and ctx.attempt <= ctx.params.get(
            "fail_attempts", 0
        ):
            raise RuntimeError("connection to 10.0.0.7 refused, password=hunter2")
        ctx.commit_step(checkpoint={"next": step + 1}, done=step + 1, total=total)
        time.sleep(float(ctx.params.get("pause", 0)))
    return {"steps": total, "resumed_from": start, "attempt": ctx.attempt}


@job_handler("test.open-write")
def write_and_linger(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Writes without committing, then outlasts a heartbeat: its result is written after."""
    _called(ctx)
    record_event(session, ctx.request, action=STEP_ACTION, target_type="job", target_id=ctx.job_id)
    time.sleep(float(ctx.params["linger"]))
    return {"lingered": ctx.params["linger"]}


@job_handler("test.fail")
def always_fail(session: Session, ctx: JobContext) -> dict[str, Any]:
    _called(ctx)
    if ctx.params.get("clean"):
        raise JobFailed("the directory refused the credentials", retry=False)
    raise RuntimeError("Traceback: secret=hunter2")


@job_handler("test.block")
def block_until_released(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Waits for its gate (or a cancel request), reporting progress meanwhile."""
    _called(ctx)
    gate = gates.setdefault(ctx.job_id, threading.Event())
    ctx.progress(1, 2)
    deadline = time.monotonic() + 20
    while not gate.wait(0.05):
        ctx.raise_if_cancelled()
        if time.monotonic() > deadline:
            raise RuntimeError("test gate never opened")
    return {"released": True}


def release(job_id: uuid.UUID) -> None:
    gates.setdefault(job_id, threading.Event()).set()


@dataclass
class TaskLog:
    """Counts the queue's executed run tasks, through huey's own signals."""

    finished: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, signal: str, task: Any, *_args: Any, **_kwargs: Any) -> None:
        if task.name == "facito_admin.jobs.run":
            with self.lock:
                self.finished += 1


@dataclass
class QueueHarness:
    """A queue on its own huey storage, with a runtime of its own on the test database."""

    runtime: Runtime
    queue: JobQueue
    tasks: TaskLog
    settings: Settings
    consumer: EmbeddedConsumer | None = None

    def start(self, workers: int = 3) -> EmbeddedConsumer:
        self.consumer = EmbeddedConsumer(self.queue, workers=workers, periodic=False)
        return self.consumer.start_in_background()

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.shutdown(timeout=10)
            self.consumer = None

    def enqueue(
        self, organisation_id: uuid.UUID, kind: str, params: dict[str, Any] | None = None, **kw: Any
    ) -> uuid.UUID:
        with unit_of_work(self.runtime, organisation_id=organisation_id) as session:
            return enqueue_job(
                session, admin_ctx(organisation_id), kind=kind, params=params or {}, **kw
            ).id

    def job(self, organisation_id: uuid.UUID, job_id: uuid.UUID) -> Job:
        with self.runtime.session(organisation_id=organisation_id) as session:
            job = session.get(Job, (organisation_id, job_id))
            assert job is not None
            return job

    def wait_for(
        self,
        organisation_id: uuid.UUID,
        job_id: uuid.UUID,
        condition: Callable[[Job], bool],
        timeout: float = 15.0,
    ) -> Job:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(organisation_id, job_id)
            if condition(job):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job never got there: {job.state} {job.error}")
            time.sleep(0.05)

    def wait_finished(self, organisation_id: uuid.UUID, job_id: uuid.UUID) -> Job:
        return self.wait_for(organisation_id, job_id, lambda j: j.finished_at is not None)

    def wait_tasks(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while self.tasks.finished < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.tasks.finished} of {count} tasks ran")
            time.sleep(0.02)


def queue_settings(base: Settings, backend: str, tmp_path: Path) -> Settings:
    """Settings of an isolated queue: its own SQLite file, or its own name on Redis."""
    url = REDIS_URL if backend == "redis" else f"sqlite:///{tmp_path / 'huey.db'}"
    return load_settings(
        base.model_dump() | {"huey_url": url, "huey_name": f"facito-test-{uuid.uuid4().hex[:12]}"}
    )


@pytest.fixture(params=["sqlite", "redis"])
def queue_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("set FACITO_TEST_REDIS_URL to run the queue on Redis")
    return str(request.param)


@pytest.fixture
def jobs(
    runtime: Runtime,
    database_url: str,
    settings: Settings,
    queue_backend: str,
    tmp_path: Path,
) -> Iterator[QueueHarness]:
    """A fresh queue with short heartbeats, on the test database; its consumer is stopped
    before the `database` fixture deletes the rows."""
    own_settings = queue_settings(settings, queue_backend, tmp_path)
    huey = build_huey(own_settings)
    if queue_backend == "redis":
        # A worker blocks this long in BRPOP; stopping a consumer waits for it (1 s by default).
        huey.storage.read_timeout = 0.1
    queue = JobQueue(huey, FAST)
    own_runtime = replace(
        runtime, settings=own_settings, database=Database(database_url), queue=queue
    )
    install_tasks(queue, own_runtime)
    tasks = TaskLog()
    huey.signal(signals.SIGNAL_COMPLETE, signals.SIGNAL_ERROR)(tasks.receive)
    harness = QueueHarness(own_runtime, queue, tasks, own_settings)
    yield harness
    harness.stop()
    huey.flush()
    own_runtime.database.dispose()


def step_events(runtime: Runtime, organisation_id: uuid.UUID, job_id: uuid.UUID) -> list[int]:
    """The steps of a job that committed, in commit order."""
    # A step's event waits for its sealer just after the step's commit (a worker killed
    # between the two leaves it waiting): seal it first, as the every-minute scan would.
    seal_organisation(runtime, organisation_id)
    with runtime.session(organisation_id=organisation_id) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == STEP_ACTION, AuditEvent.target_id == str(job_id))
            .order_by(AuditEvent.seq)
        ).all()
        return [int(event.details["step"]) for event in events]


def cli_env(jobs: QueueHarness, database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a `facito-admin` process on the harness's database and queue."""
    settings = jobs.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACITO_")}
    return env | {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "FACITO_ENV": "test",
        "FACITO_DATABASE_URL": database_url,
        "FACITO_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "FACITO_DEV_ISSUER_ENABLED": "false",
        "FACITO_LOG_LEVEL": "WARNING",
        "FACITO_HUEY_URL": settings.huey_url or "",
        "FACITO_HUEY_NAME": settings.huey_name,
        "FACITO_JOB_HEARTBEAT_SECONDS": "0.1",
        "FACITO_JOB_STALE_SECONDS": "1",
    }


__all__ = ["JobState", "jobs", "queue_backend"]
