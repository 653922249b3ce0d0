"""Fixtures of the directory sync tests: the fakes, a real queue and consumer."""

from tests.factories.directory_sync import directory_fakes, fakes, graph, queue_backend, syncs
from tests.factories.jobs import jobs

__all__ = ["directory_fakes", "fakes", "graph", "jobs", "queue_backend", "syncs"]
