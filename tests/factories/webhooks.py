"""Webhook endpoints made directly in the database, a local HTTPS receiver, and its CA."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import trustme
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from facito_admin.db.session import unit_of_work
from facito_admin.jobs.models import Job
from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.runner import run_job
from facito_admin.outbound import WebhookConfig
from facito_admin.runtime import Runtime
from facito_admin.webhooks.crypto import encrypt_secret, generate_secret
from facito_admin.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories.runtime import swapped


@dataclass
class Endpoint:
    id: uuid.UUID
    organisation_id: uuid.UUID
    secret: str
    url: str


def make_endpoint(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    url: str,
    *,
    event_types: list[str] | None = None,
    enabled: bool = True,
) -> Endpoint:
    """An endpoint stored as the service would store it (no URL check: the test chooses)."""
    secret = generate_secret()
    key = runtime.webhooks.secret_key
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        endpoint = WebhookEndpoint(
            organisation_id=organisation_id,
            url=url,
            description=None,
            event_types=event_types or ["policy.statement_published"],
            enabled=enabled,
            secret_encrypted=encrypt_secret(secret, secret_key=key),
        )
        session.add(endpoint)
        session.flush()
        return Endpoint(endpoint.id, organisation_id, secret, url)


def deliveries(runtime: Runtime, organisation_id: uuid.UUID) -> list[WebhookDelivery]:
    with runtime.session(organisation_id=organisation_id) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all())


def delivery(
    runtime: Runtime, organisation_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    with runtime.session(organisation_id=organisation_id) as session:
        row = session.get(WebhookDelivery, (organisation_id, delivery_id))
        assert row is not None
        return row


def endpoint_row(
    runtime: Runtime, organisation_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    with runtime.session(organisation_id=organisation_id) as session:
        row = session.get(WebhookEndpoint, (organisation_id, endpoint_id))
        assert row is not None
        return row


def job_row(runtime: Runtime, organisation_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    with runtime.session(organisation_id=organisation_id) as session:
        row = session.get(Job, (organisation_id, job_id))
        assert row is not None
        return row


def run_attempt(
    runtime: Runtime, organisation_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Run the job of the delivery's due attempt now (as a worker would at its time)."""
    job_id = delivery(runtime, organisation_id, delivery_id).job_id
    assert job_id is not None
    run_job(queue_of(runtime), organisation_id, job_id)
    return delivery(runtime, organisation_id, delivery_id)


@dataclass
class Receiver:
    """A local HTTPS server with a certificate of a test CA that webhook calls trust."""

    server: HTTPServer
    ca_file: Path
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"https://127.0.0.1:{self.server.port}{path}"


@pytest.fixture(scope="session")
def webhook_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def receiver(webhook_ca: trustme.CA, tmp_path: Path) -> Iterator[Receiver]:
    certificate = webhook_ca.issue_cert("127.0.0.1", "localhost", "hooks.example.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    ca_file = tmp_path / "webhook-ca.pem"
    webhook_ca.cert_pem.write_to_path(str(ca_file))
    yield Receiver(server, ca_file)
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def local_receivers(runtime: Runtime, receiver: Receiver) -> Iterator[WebhookConfig]:
    """Webhooks may go to 127.0.0.1 and trust the receiver's CA (test settings otherwise)."""
    config = replace(runtime.webhooks, allow_private=True, ca_bundle=str(receiver.ca_file))
    with swapped(runtime, webhooks=config):
        yield config


__all__ = ["local_receivers", "receiver", "webhook_ca"]
