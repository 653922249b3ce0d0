"""Jobs run by a real huey consumer (threads in this process) on SQLite or Redis storage."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from facito_admin.db.session import unit_of_work
from facito_admin.jobs import enqueue_job
from facito_admin.jobs.models import Job, JobState
from facito_admin.jobs.queue import JobTiming
from facito_admin.jobs.service import cancel_job
from tests.conftest import Org
from tests.factories.audit import admin_ctx
from tests.factories.jobs import QueueHarness, calls, release, step_events


def test_a_job_runs_to_success_with_its_progress_and_result(jobs: QueueHarness, org_a: Org):
    jobs.start()
    job_id = jobs.enqueue(org_a.id, "test.steps", {"steps": 4})
    job = jobs.wait_finished(org_a.id, job_id)
    assert job.state is JobState.succeeded
    assert (job.progress_done, job.progress_total) == (4, 4)
    assert job.result == {"steps": 4, "resumed_from": 0, "attempt": 1}
    assert job.attempts == 1
    assert job.error is None
    assert job.lease is None
    assert job.checkpoint == {"next": 4}
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    assert step_events(jobs.runtime, org_a.id, job_id) == [0, 1, 2, 3]


def test_a_failing_step_is_rolled_back_and_the_retry_resumes_after_the_last_commit(
    jobs: QueueHarness, org_a: Org
):
    jobs.start()
    params = {"steps": 4, "fail_step": 2, "fail_attempts": 2}
    job_id = jobs.enqueue(org_a.id, "test.steps", params, max_attempts=3)
    job = jobs.wait_finished(org_a.id, job_id)
    assert job.state is JobState.succeeded
    assert job.attempts == 3
    assert job.result == {"steps": 4, "resumed_from": 2, "attempt": 3}
    # Step 2 was recorded and rolled back twice; every step committed exactly once.
    assert step_events(jobs.runtime, org_a.id, job_id) == [0, 1, 2, 3]
    assert job.error is None


def test_a_job_that_keeps_failing_ends_failed_with_a_safe_message(jobs: QueueHarness, org_a: Org):
    jobs.start()
    job_id = jobs.enqueue(org_a.id, "test.fail", max_attempts=2)
    job = jobs.wait_finished(org_a.id, job_id)
    assert job.state is JobState.failed
    assert job.attempts == 2
    assert calls[job_id] == 2
    assert job.error == "internal error (RuntimeError); the details are in the worker's log"
    assert "hunter2" not in job.error
    assert job.result is None


def test_a_job_failed_by_its_handler_is_not_retried_and_keeps_the_handlers_words(
    jobs: QueueHarness, org_a: Org
):
    jobs.start()
    job_id = jobs.enqueue(org_a.id, "test.fail", {"clean": True}, max_attempts=3)
    job = jobs.wait_finished(org_a.id, job_id)
    assert (job.state, job.attempts) == (JobState.failed, 1)
    assert job.error == "the directory refused the credentials"


def test_a_retry_waits_for_its_backoff(jobs: QueueHarness, org_a: Org):
    jobs.queue.timing = JobTiming(heartbeat_seconds=0.1, stale_seconds=1, retry_backoff_seconds=1.0)
    jobs.start()
    job_id = jobs.enqueue(org_a.id, "test.fail", max_attempts=2)
    queued = jobs.wait_for(org_a.id, job_id, lambda j: j.attempts == 1 and j.state == "queued")
    assert queued.available_at > queued.heartbeat_at
    assert queued.error is not None
    job = jobs.wait_finished(org_a.id, job_id)
    assert job.state is JobState.failed
    # The second attempt could not start before the backoff had passed.
    assert job.heartbeat_at is not None
    assert (job.finished_at - queued.heartbeat_at).total_seconds() >= 0.9


def test_backoff_doubles_per_failed_attempt_up_to_its_cap():
    timing = JobTiming(retry_backoff_seconds=10, retry_backoff_max_seconds=60)
    assert [timing.backoff(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


def test_a_job_holding_its_write_open_past_a_heartbeat_ends_at_once(
    jobs: QueueHarness, org_a: Org, org_b: Org
):
    # The beat waits for the lock the job's open transaction holds; ending the job must not
    # wait for the beat (it did, for SQLite's 30-second busy timeout).
    jobs.queue.timing = JobTiming(heartbeat_seconds=0.2, stale_seconds=5)
    jobs.start()
    started = time.monotonic()
    job_id = jobs.enqueue(org_a.id, "test.open-write", {"linger": 0.5})
    job = jobs.wait_finished(org_a.id, job_id)
    assert job.state is JobState.succeeded
    assert job.result == {"lingered": 0.5}
    assert time.monotonic() - started < 10
    with jobs.runtime.session(organisation_id=org_b.id) as session:
        assert session.scalars(select(Job)).all() == []


def test_enqueueing_inside_a_rolled_back_transaction_sends_nothing(jobs: QueueHarness, org_a: Org):
    with (
        pytest.raises(RuntimeError, match="changed my mind"),
        unit_of_work(jobs.runtime, organisation_id=org_a.id) as session,
    ):
        enqueue_job(session, admin_ctx(org_a.id), kind="test.steps", params={"steps": 1})
        raise RuntimeError("changed my mind")
    assert len(jobs.queue.huey) == 0
    with jobs.runtime.session(organisation_id=org_a.id) as session:
        assert session.query(Job).count() == 0

    # The same call in a committed transaction sends exactly one message, after the commit.
    with unit_of_work(jobs.runtime, organisation_id=org_a.id) as session:
        enqueue_job(session, admin_ctx(org_a.id), kind="test.steps", params={"steps": 1})
        assert len(jobs.queue.huey) == 0
    assert len(jobs.queue.huey) == 1


def test_enqueue_refuses_unknown_kinds_and_values_that_are_not_json(jobs: QueueHarness, org_a: Org):
    with unit_of_work(jobs.runtime, organisation_id=org_a.id) as session:
        with pytest.raises(ValueError, match="no handler"):
            enqueue_job(session, admin_ctx(org_a.id), kind="test.nobody")
        with pytest.raises(TypeError, match="params must be JSON"):
            enqueue_job(session, admin_ctx(org_a.id), kind="test.steps", params={"x": {1, 2}})
        with pytest.raises(ValueError, match="max_attempts"):
            enqueue_job(session, admin_ctx(org_a.id), kind="test.steps", max_attempts=0)
    assert len(jobs.queue.huey) == 0


def test_duplicate_messages_never_run_a_job_twice(jobs: QueueHarness, org_a: Org):
    jobs.start(workers=3)
    job_id = jobs.enqueue(org_a.id, "test.block")
    jobs.wait_for(org_a.id, job_id, lambda j: j.state == "running")
    for _ in range(3):
        jobs.queue.send(org_a.id, job_id)
    jobs.wait_tasks(3)  # the three duplicates ran (and did nothing) while the job is running
    running = jobs.job(org_a.id, job_id)
    assert (running.state, running.attempts, calls[job_id]) == (JobState.running, 1, 1)

    release(job_id)
    job = jobs.wait_finished(org_a.id, job_id)
    jobs.queue.send(org_a.id, job_id)  # a late duplicate, after success
    jobs.wait_tasks(5)
    again = jobs.job(org_a.id, job_id)
    assert (again.state, again.attempts, calls[job_id]) == (JobState.succeeded, 1, 1)
    assert again.finished_at == job.finished_at
    assert again.result == {"released": True}


def test_a_running_job_reports_progress_through_its_heartbeat(jobs: QueueHarness, org_a: Org):
    jobs.start()
    job_id = jobs.enqueue(org_a.id, "test.block")
    job = jobs.wait_for(org_a.id, job_id, lambda j: j.progress_total == 2)
    first_beat = job.heartbeat_at
    assert job.progress_done == 1
    later = jobs.wait_for(org_a.id, job_id, lambda j: j.heartbeat_at > first_beat)
    assert later.state is JobState.running
    release(job_id)
    jobs.wait_finished(org_a.id, job_id)


def test_cancelling_a_running_job_stops_it_at_its_next_check(jobs: QueueHarness, org_a: Org):
    jobs.start()
    job_id = jobs.enqueue(org_a.id, "test.steps", {"steps": 50, "pause": 0.05})
    jobs.wait_for(org_a.id, job_id, lambda j: j.progress_done >= 2)
    with unit_of_work(jobs.runtime, organisation_id=org_a.id) as session:
        asked = cancel_job(session, admin_ctx(org_a.id), job_id=job_id)
        assert (asked.state, asked.cancel_requested) == (JobState.running, True)
    job = jobs.wait_finished(org_a.id, job_id)
    assert job.state is JobState.cancelled
    assert job.lease is None
    done = step_events(jobs.runtime, org_a.id, job_id)
    # Committed steps stay done; the job stopped long before its end.
    assert done == list(range(len(done)))
    assert 2 <= len(done) < 50
    assert job.progress_done == len(done)


def test_cancelling_a_queued_job_means_it_never_runs(jobs: QueueHarness, org_a: Org):
    job_id = jobs.enqueue(org_a.id, "test.steps", {"steps": 2})
    with unit_of_work(jobs.runtime, organisation_id=org_a.id) as session:
        cancelled = cancel_job(session, admin_ctx(org_a.id), job_id=job_id)
        assert cancelled.state is JobState.cancelled
    jobs.start()
    jobs.wait_tasks(1)
    job = jobs.job(org_a.id, job_id)
    assert (job.state, job.attempts, calls[job_id]) == (JobState.cancelled, 0, 0)
    assert step_events(jobs.runtime, org_a.id, job_id) == []


def test_jobs_of_two_organisations_run_each_in_its_own_organisation(
    jobs: QueueHarness, org_a: Org, org_b: Org
):
    jobs.start()
    a = jobs.enqueue(org_a.id, "test.steps", {"steps": 2})
    b = jobs.enqueue(org_b.id, "test.steps", {"steps": 3})
    assert jobs.wait_finished(org_a.id, a).state is JobState.succeeded
    assert jobs.wait_finished(org_b.id, b).state is JobState.succeeded
    assert step_events(jobs.runtime, org_a.id, a) == [0, 1]
    assert step_events(jobs.runtime, org_b.id, b) == [0, 1, 2]
    assert step_events(jobs.runtime, org_a.id, b) == []
    with jobs.runtime.session(organisation_id=org_b.id) as session:
        assert session.get(Job, (org_b.id, a)) is None
