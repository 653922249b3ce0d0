"""Lost workers and lost messages: the reaper, leases, and a worker process killed mid-job."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.jobs.models import Job, JobState
from facito_admin.jobs.reaper import WORKER_LOST, reap_jobs
from tests.conftest import Org
from tests.factories.jobs import (
    CLI,
    ROOT,
    QueueHarness,
    calls,
    cli_env,
    release,
    step_events,
)


def _set(jobs: QueueHarness, org: Org, job_id: uuid.UUID, **values: Any) -> None:
    with unit_of_work(jobs.runtime, organisation_id=org.id) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def test_the_reaper_requeues_lost_jobs_and_resends_forgotten_ones(
    jobs: QueueHarness, org_a: Org, org_b: Org
):
    old, now = utcnow() - timedelta(seconds=30), utcnow()
    lost = {"state": JobState.running, "heartbeat_at": old, "attempts": 1, "lease": uuid.uuid4()}
    ids = {name: jobs.enqueue(org_a.id, "test.steps", {"steps": 1}) for name in "abcdef"}
    other = jobs.enqueue(org_b.id, "test.steps", {"steps": 1})
    _set(jobs, org_a, ids["a"], **lost)
    _set(jobs, org_a, ids["b"], **lost | {"attempts": 3})
    _set(jobs, org_a, ids["c"], **lost | {"cancel_requested": True})
    _set(jobs, org_a, ids["d"], **lost | {"heartbeat_at": now})
    _set(jobs, org_a, ids["e"], available_at=old)
    _set(jobs, org_b, other, **lost)
    jobs.queue.huey.flush()  # forget the enqueue messages: count only the reaper's

    report = reap_jobs(jobs.queue)

    assert sorted(report.requeued) == sorted([ids["a"], other])
    assert report.failed == [ids["b"]]
    assert report.cancelled == [ids["c"]]
    assert report.resent == [ids["e"]]
    assert len(jobs.queue.huey) == 3
    requeued = jobs.job(org_a.id, ids["a"])
    assert (requeued.state, requeued.lease) == (JobState.queued, None)
    assert requeued.error == f"{WORKER_LOST}; it was queued again"
    failed = jobs.job(org_a.id, ids["b"])
    assert (failed.state, failed.error) == (JobState.failed, WORKER_LOST)
    assert failed.finished_at is not None
    assert jobs.job(org_a.id, ids["c"]).state is JobState.cancelled
    assert jobs.job(org_a.id, ids["d"]).state is JobState.running
    assert jobs.job(org_a.id, ids["f"]).available_at < jobs.job(org_a.id, ids["e"]).available_at
    assert jobs.job(org_b.id, other).state is JobState.queued

    # Nothing is stale any more: a second run (or a second consumer's reaper) does nothing.
    again = reap_jobs(jobs.queue)
    assert (again.requeued, again.resent, again.failed, again.cancelled) == ([], [], [], [])
    assert len(jobs.queue.huey) == 3

    # The re-sent messages run the jobs.
    jobs.start()
    for org, job_id in ((org_a, ids["a"]), (org_a, ids["e"]), (org_b, other)):
        assert jobs.wait_finished(org.id, job_id).state is JobState.succeeded


def test_a_worker_presumed_dead_cannot_overwrite_its_successor(jobs: QueueHarness, org_a: Org):
    jobs.start()
    job_id = jobs.enqueue(org_a.id, "test.block")
    jobs.wait_for(org_a.id, job_id, lambda j: j.state == "running")
    successor = uuid.uuid4()
    _set(jobs, org_a, job_id, lease=successor)  # as if reaped and claimed elsewhere
    release(job_id)
    jobs.wait_tasks(1)
    job = jobs.job(org_a.id, job_id)
    assert (job.state, job.lease, job.result) == (JobState.running, successor, None)
    assert calls[job_id] == 1


@pytest.mark.slow
def test_a_job_whose_worker_was_killed_resumes_from_its_checkpoint(
    jobs: QueueHarness, org_a: Org, database_url: str, tmp_path: Path
):
    steps = 8
    job_id = jobs.enqueue(org_a.id, "test.steps", {"steps": steps, "pause": 0.3})
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter running our CLI
        [*CLI, "worker", "--workers", "1", "--no-periodic"],
        cwd=ROOT,
        env=cli_env(jobs, database_url, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        jobs.wait_for(org_a.id, job_id, lambda j: (j.checkpoint or {}).get("next", 0) >= 3, 60)
    finally:
        worker.send_signal(signal.SIGKILL)
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL, stderr.decode()
    killed = jobs.job(org_a.id, job_id)
    assert (killed.state, killed.attempts) == (JobState.running, 1)
    committed = step_events(jobs.runtime, org_a.id, job_id)
    assert committed == list(range(killed.checkpoint["next"]))

    # Its heartbeat stops; once stale, the periodic reaper (run through huey) re-queues it.
    time.sleep(jobs.queue.timing.stale_seconds + 0.2)
    jobs.start()
    jobs.queue.reap_task()
    job = jobs.wait_finished(org_a.id, job_id)

    assert job.state is JobState.succeeded
    assert job.attempts == 2
    assert job.result == {"steps": steps, "resumed_from": killed.checkpoint["next"], "attempt": 2}
    # Every step committed exactly once across the two workers, in order.
    assert step_events(jobs.runtime, org_a.id, job_id) == list(range(steps))
