"""The queue's huey tasks: run one job, reap lost ones, and the domains' periodic jobs.

Installed once per process on the runtime's queue (bootstrap.py): the web process needs the
run task to send messages, a consumer runs all of them. Every task opens its sessions through
the runtime the queue is bound to.
"""

from __future__ import annotations

import uuid

from huey import crontab

from ..runtime import Runtime
from .queue import JobQueue
from .reaper import reap_jobs
from .registry import PeriodicFunction, periodic_jobs
from .runner import run_job

RUN_TASK = "facito_admin.jobs.run"
REAP_TASK = "facito_admin.jobs.reap"


def install_tasks(queue: JobQueue, runtime: Runtime) -> None:
    """Register the tasks on the queue's huey, working in ``runtime``."""

    def run(organisation_id: str, job_id: str) -> None:
        run_job(queue, uuid.UUID(organisation_id), uuid.UUID(job_id))

    def reap() -> None:
        reap_jobs(queue)

    # huey retries cover only failures around the handler (database down while claiming):
    # claiming is idempotent. Handler failures are retried by the runner, counted in the row.
    run_task = queue.huey.task(name=RUN_TASK, retries=2, retry_delay=5)(run)
    reap_task = queue.huey.periodic_task(crontab(), name=REAP_TASK)(reap)
    for periodic in periodic_jobs():
        queue.huey.periodic_task(crontab(**periodic.schedule), name=periodic.name)(
            _bound(periodic.function, runtime)
        )
    queue.bind(runtime, run_task=run_task, reap_task=reap_task)


def _bound(function: PeriodicFunction, runtime: Runtime) -> object:
    def periodic() -> None:
        function(runtime)

    return periodic
