"""Huey consumers: `facito-admin worker` in the foreground, or threads inside another process."""

from __future__ import annotations

import threading
import time
from typing import Any

from huey.consumer import Consumer, ConsumerStopped

from .queue import JobQueue
from .schedule import LeasedScheduler, ScheduleLeases

# The SQLite queue is polled (Redis blocks): huey's default backoff stretches an idle poll
# to 10 s, too slow for `make run` and tests; one query a second costs nothing.
POLL_MAX_DELAY = 1.0


def consumer_options(workers: int, *, periodic: bool) -> dict[str, Any]:
    return {
        "workers": workers,
        "periodic": periodic,
        "worker_type": "thread",
        "initial_delay": 0.05,
        "max_delay": POLL_MAX_DELAY,
    }


class LeasedConsumer(Consumer):  # type: ignore[misc] # huey ships no type hints
    """A consumer whose scheduler enqueues the periodic tasks only while it holds the
    deployment's schedule lease (jobs/schedule.py): one schedule, however many consumers."""

    def __init__(self, queue: JobQueue, *, workers: int = 2, periodic: bool = True) -> None:
        # Set before huey's __init__, which builds the scheduler.
        self.leases = ScheduleLeases(queue.runtime.database)
        super().__init__(queue.huey, **consumer_options(workers, periodic=periodic))

    def _create_scheduler(self) -> LeasedScheduler:
        return LeasedScheduler(
            huey=self.huey,
            stop_flag=self.stop_flag,
            interval=self.scheduler_interval,
            periodic=self.periodic,
            leases=self.leases,
        )


def run_consumer(queue: JobQueue, *, workers: int, periodic: bool = True) -> None:
    """Run a consumer until SIGINT/SIGTERM (huey's signal handling, in the main thread)."""
    consumer = LeasedConsumer(queue, workers=workers, periodic=periodic)
    try:
        consumer.run()
    finally:
        if periodic:
            consumer.leases.release()


class EmbeddedConsumer(LeasedConsumer):
    """A consumer whose threads run inside a host process (the development server, tests).

    It leaves the host's signal handlers alone (huey's would swallow Ctrl-C) and supervises
    its worker threads from a thread of its own.
    """

    def __init__(self, queue: JobQueue, *, workers: int = 2, periodic: bool = True) -> None:
        super().__init__(queue, workers=workers, periodic=periodic)
        self._supervisor: threading.Thread | None = None

    def _set_signal_handlers(self) -> None:
        """Keep the host's handlers."""

    def start_in_background(self) -> EmbeddedConsumer:
        self.start()
        self._supervisor = threading.Thread(
            target=self._supervise, name="huey-supervisor", daemon=True
        )
        self._supervisor.start()
        return self

    def _supervise(self) -> None:
        health_check = time.monotonic()
        while True:
            try:
                health_check = self.loop(health_check)
            except ConsumerStopped:
                return

    def shutdown(self, timeout: float | None = 30.0) -> None:
        """Stop taking tasks and wait (up to ``timeout``) for running ones to finish."""
        self.shutdown_timeout = timeout
        self.stop(graceful=True)
        if self._supervisor is not None:
            self._supervisor.join(timeout)
        if self.periodic:
            self.leases.release()
