"""Fixtures of the directory sync API tests: the fakes, and a consumer on the app's queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.worker import EmbeddedConsumer
from facito_admin.runtime import Runtime
from tests.factories.directory_sync import Fakes, directory_fakes, fakes, graph
from tests.factories.runtime import swapped

__all__ = ["consumer", "directory_fakes", "fakes", "graph"]


@pytest.fixture
def consumer(runtime: Runtime, fakes: Fakes) -> Iterator[EmbeddedConsumer]:
    """A consumer on the app's own queue (as `make run` starts one), syncing from the fakes."""
    queue_of(runtime).huey.flush()  # messages of earlier tests' jobs, long deleted
    with swapped(runtime, graph=fakes.access()):
        running = EmbeddedConsumer(queue_of(runtime), workers=2, periodic=False)
        running.start_in_background()
        yield running
        running.shutdown(timeout=10)
