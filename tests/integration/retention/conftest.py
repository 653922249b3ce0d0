"""The purge job runs on a real huey queue and consumer (tests/factories/jobs.py)."""

from tests.factories.jobs import jobs, queue_backend

__all__ = ["jobs", "queue_backend"]
