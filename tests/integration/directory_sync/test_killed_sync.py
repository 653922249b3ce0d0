"""The issue's done-when: a sync killed with SIGKILL halfway resumes at its last committed page
and ends with exactly the directory's accounts, no duplicates, its job showing the resumed run."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from facito_admin.accounts.actions import AccountAction
from facito_admin.directory_sync.actions import DirectorySyncAction
from facito_admin.jobs.models import JobState
from tests.conftest import Org
from tests.factories.directory_sync import SyncHarness
from tests.factories.jobs import CLI, ROOT, cli_env
from tests.fakes.graph import FakeGraph

USERS, PAGE = 5000, 100


@pytest.mark.slow
def test_a_sync_killed_halfway_resumes_and_ends_with_exactly_the_directory(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org, org_b: Org, database_url: str, tmp_path: Path
):
    directory = graph.add_range(0, USERS)
    graph.page_size = PAGE
    graph.page_delay = 0.03  # slow enough to stop it halfway
    job_id = syncs.start(org_a, "full")
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter running our CLI
        [*CLI, "worker", "--workers", "1", "--no-periodic"],
        cwd=ROOT,
        env=cli_env(syncs.jobs, database_url, tmp_path) | syncs.fakes.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        syncs.jobs.wait_for(
            org_a.id, job_id, lambda j: (j.checkpoint or {}).get("pages", 0) >= 15, 120
        )
    finally:
        worker.send_signal(signal.SIGKILL)
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL, stderr.decode()[-2000:]

    killed = syncs.jobs.job(org_a.id, job_id)
    assert (killed.state, killed.attempts) == (JobState.running, 1)
    assert killed.checkpoint is not None
    pages = killed.checkpoint["pages"]
    assert 15 <= pages < USERS // PAGE
    # Exactly the committed pages are there: nothing of the page the kill interrupted.
    committed = syncs.accounts(org_a)
    assert len(committed) == killed.checkpoint["entries"] == pages * PAGE
    assert killed.progress_done == pages * PAGE

    # Its heartbeat stops; once stale, the reaper queues it again and a worker resumes it.
    time.sleep(syncs.jobs.queue.timing.stale_seconds + 0.2)
    graph.page_delay = 0
    syncs.jobs.start()
    syncs.jobs.queue.reap_task()
    job = syncs.jobs.wait_for(org_a.id, job_id, lambda j: j.finished_at is not None, 120)

    assert job.state is JobState.succeeded, job.error
    assert job.attempts == 2
    assert job.result is not None
    assert (job.result["created"], job.result["pages"], job.result["entries"]) == (
        USERS,
        USERS // PAGE,
        USERS,
    )
    assert job.result["updated"] == job.result["unchanged"] == job.result["deleted"] == 0
    assert job.result["resumed_at_pages"] == [pages]
    accounts = syncs.accounts(org_a)
    assert sorted(a.entra_oid for a in accounts) == sorted(directory)
    assert len({a.upn_key for a in accounts}) == USERS
    # Every account was created once, by one of the two attempts: no page ran twice.
    creates = Counter(e.target_id for e in syncs.events(org_a, AccountAction.AccountCreate))
    assert len(creates) == USERS and set(creates.values()) == {1}
    assert len(syncs.events(org_a, DirectorySyncAction.DirectorySyncRun)) == 1
    assert syncs.accounts(org_b) == []
