"""Fixtures of the webhook tests: a local HTTPS receiver and its CA (factories/webhooks.py)."""

from tests.factories.webhooks import local_receivers, receiver, webhook_ca

__all__ = ["local_receivers", "receiver", "webhook_ca"]
