"""`make run`: the development server runs jobs with a consumer in its own process."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from facito_admin.jobs.models import JobState
from tests.conftest import Org
from tests.factories.jobs import CLI, ROOT, QueueHarness, cli_env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("the server never answered")


@pytest.mark.slow
def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_the_development_server_runs_jobs_in_process(
    jobs: QueueHarness, org_a: Org, database_url: str, tmp_path: Path
):
    port = _free_port()
    env = cli_env(jobs, database_url, tmp_path) | {"FACITO_ENV": "development"}
    server = subprocess.Popen(  # noqa: S603 - our own interpreter running our CLI
        [*CLI, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Ctrl-C as at a terminal: a suite started in the background of a script inherits
        # SIGINT ignored (POSIX), and the server would never see the interrupt.
        preexec_fn=_interruptible,  # noqa: PLW1509 - only resets one signal before exec
    )
    try:
        _wait_until_serving(f"http://127.0.0.1:{port}/livez", server)
        job_id = jobs.enqueue(org_a.id, "test.steps", {"steps": 2})
        job = jobs.wait_finished(org_a.id, job_id)
        assert job.state is JobState.succeeded
    finally:
        server.send_signal(signal.SIGINT)
        stdout, _ = server.communicate(timeout=30)
    assert b"job consumer running in-process" in stdout
