"""Fixtures of the webhook tests: a local HTTPS receiver and its CA (factories/webhooks.py),
and a real huey queue with a consumer (factories/jobs.py)."""

from tests.factories.jobs import jobs, queue_backend
from tests.factories.webhooks import local_receivers, receiver, webhook_ca

__all__ = ["jobs", "local_receivers", "queue_backend", "receiver", "webhook_ca"]
