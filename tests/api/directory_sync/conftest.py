"""Fixtures of the directory sync API tests: the fakes, and a consumer on the app's queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facito_admin.db.session import Database
from facito_admin.directory_sync.graph import ACCESS_KEY, attach_graph_access
from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.worker import EmbeddedConsumer
from tests.factories.directory_sync import Fakes, directory_fakes, fakes, graph

__all__ = ["consumer", "directory_fakes", "fakes", "graph"]


@pytest.fixture
def consumer(database: Database, fakes: Fakes) -> Iterator[EmbeddedConsumer]:
    """A consumer on the app's own queue (as `make run` starts one), syncing from the fakes."""
    attach_graph_access(database, fakes.access())
    queue_of(database).huey.flush()  # messages of earlier tests' jobs, long deleted
    running = EmbeddedConsumer(queue_of(database), workers=2, periodic=False)
    running.start_in_background()
    yield running
    running.shutdown(timeout=10)
    database.extensions.pop(ACCESS_KEY, None)
