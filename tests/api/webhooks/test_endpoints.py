"""Webhook endpoints through the API: admins register and change them, the secret is shown
once, readers and integrations read, and another organisation sees nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from facito_admin.db.session import cross_organisation_session
from facito_admin.http.idempotency_models import IdempotencyRecord
from facito_admin.outbound import WebhookConfig
from facito_admin.runtime import Runtime
from facito_admin.webhooks.crypto import decrypt_secret
from tests.api.organisations.helpers import actions
from tests.conftest import Org
from tests.factories.runtime import swapped
from tests.factories.webhooks import endpoint_row
from tests.fakes.dns import FakeDns

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"
PUBLIC = "hooks.example.test"
PUBLIC_ADDRESS = "93.184.216.34"


def url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/webhook-endpoints{suffix}"


@pytest.fixture
def public_dns(dns_server: FakeDns) -> Iterator[FakeDns]:
    dns_server.addresses[PUBLIC] = [PUBLIC_ADDRESS, "2606:2800:220:1:248:1893:25c8:1946"]
    yield dns_server
    dns_server.reset()


def register(client: FlaskClient, org: Org, headers: dict[str, str], **body: Any) -> Any:
    body = {"url": f"https://{PUBLIC}/hook", "event_types": ["policy.statement_published"]} | body
    response = client.post(url(org), json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, public_dns: FakeDns
):
    headers = auth(org_a, ADMIN)
    response = register(
        client,
        org_a,
        headers,
        description="ERP",
        event_types=["policy.contract_changed", "policy.statement_published"],
    )
    created = response.get_json()
    assert response.headers["Location"].endswith(url(org_a, f"/{created['id']}"))
    assert response.headers["ETag"]
    assert created["secret"].startswith("whsec_")
    # Registry order, whatever order was sent.
    assert created["event_types"] == ["policy.statement_published", "policy.contract_changed"]
    assert (created["enabled"], created["disabled_reason"]) == (True, None)

    read = client.get(response.headers["Location"], headers=headers)
    assert read.status_code == 200
    assert "secret" not in read.get_json()
    assert read.headers["ETag"] == response.headers["ETag"]
    # Stored encrypted, recoverable with the app's key only.
    row = endpoint_row(runtime, org_a.id, uuid.UUID(created["id"]))
    assert created["secret"] not in row.secret_encrypted
    key = runtime.webhooks.secret_key
    assert decrypt_secret(row.secret_encrypted, secret_key=key) == created["secret"]
    assert actions(runtime, org_a.id)[-1] == "org:webhook-endpoint:create"

    listed = client.get(url(org_a), headers=auth(org_a, "Organisation.Reader")).get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]


def test_readers_and_integrations_read_but_cannot_register(
    client: FlaskClient, org_a: Org, auth: Auth, public_dns: FakeDns
):
    created = register(client, org_a, auth(org_a, ADMIN)).get_json()
    for role in ("Organisation.Reader", "Integration.ReadWrite"):
        headers = auth(org_a, role, app=role.startswith("Integration"))
        assert client.get(url(org_a, f"/{created['id']}"), headers=headers).status_code == 200
        body = {"url": f"https://{PUBLIC}/x", "event_types": ["policy.contract_changed"]}
        assert client.post(url(org_a), json=body, headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://hooks.example.test/hook", "https URLs only"),
        ("ftp://hooks.example.test/hook", "https URLs only"),
        ("https://user:pw@hooks.example.test/hook", "credentials"),
        ("https://10.0.0.7/hook", "private"),
        ("https://127.0.0.1:8443/hook", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://240.0.0.1/hook", "reserved"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://[fc00::1]/hook", "private"),
        ("https://loopback.example.test/hook", "127.0.0.1, which is loopback"),
        ("https://private.example.test/hook", "10.1.2.3, which is private"),
        ("https://metadata.example.test/hook", "169.254.169.254, which is link-local"),
        ("https://six.example.test/hook", "::1, which is loopback"),
        ("https://mixed.example.test/hook", "10.9.9.9, which is private"),
        ("https://unknown.example.test/hook", "does not resolve"),
        ("https://bad_name..example/hook", "not a valid domain name"),
    ],
)
def test_urls_that_are_not_https_or_lead_inside_are_refused(
    client: FlaskClient,
    runtime: Runtime,
    org_a: Org,
    auth: Auth,
    public_dns: FakeDns,
    target: str,
    why: str,
):
    public_dns.addresses |= {
        "loopback.example.test": ["127.0.0.1"],
        "private.example.test": ["10.1.2.3"],
        "metadata.example.test": ["169.254.169.254"],
        "six.example.test": ["::1"],
        "mixed.example.test": [PUBLIC_ADDRESS, "10.9.9.9"],
    }
    body = {"url": target, "event_types": ["policy.statement_published"]}
    response = client.post(url(org_a), json=body, headers=auth(org_a, ADMIN))
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert problem["code"] == "webhook-url-refused"
    assert problem["errors"][0]["field"] == "url"
    assert why in problem["detail"]
    assert "org:webhook-endpoint:create" not in actions(runtime, org_a.id)


def test_a_name_the_dns_server_never_answers_is_refused_quickly(
    client: FlaskClient, org_a: Org, auth: Auth, dns_server: FakeDns
):
    dns_server.silent.add("slow.example.test")
    try:
        body = {"url": "https://slow.example.test/", "event_types": ["policy.contract_changed"]}
        response = client.post(url(org_a), json=body, headers=auth(org_a, ADMIN))
    finally:
        dns_server.reset()
    assert response.status_code == 422
    assert "in time" in response.get_json()["detail"]


@pytest.fixture
def development_targets(runtime: Runtime) -> Iterator[WebhookConfig]:
    """Webhook settings as in development mode: http and local receivers allowed."""
    config = replace(runtime.webhooks, allow_http=True, allow_private=True)
    with swapped(runtime, webhooks=config):
        yield config


def test_development_mode_accepts_local_and_plain_http_receivers(
    client: FlaskClient, org_a: Org, auth: Auth, development_targets: WebhookConfig
):
    headers = auth(org_a, ADMIN)
    for target in ("http://127.0.0.1:8000/hook", "https://[::1]/hook", "https://10.0.0.7/"):
        register(client, org_a, headers, url=target)


def test_patch_needs_the_current_etag_and_checks_a_new_url(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, public_dns: FakeDns
):
    headers = auth(org_a, ADMIN)
    response = register(client, org_a, headers)
    location, etag = response.headers["Location"], response.headers["ETag"]

    assert client.patch(location, json={"enabled": False}, headers=headers).status_code == 428
    stale = client.patch(location, json={"enabled": False}, headers=headers | {"If-Match": '"x"'})
    assert stale.status_code == 412
    inside = client.patch(
        location, json={"url": "https://10.0.0.1/"}, headers=headers | {"If-Match": etag}
    )
    assert inside.status_code == 422
    assert inside.get_json()["code"] == "webhook-url-refused"
    empty = client.patch(location, json={}, headers=headers | {"If-Match": etag})
    assert empty.status_code == 422

    disabled = client.patch(
        location,
        json={
            "enabled": False,
            "description": "paused",
            "event_types": ["policy.contract_changed"],
        },
        headers=headers | {"If-Match": etag},
    )
    assert disabled.status_code == 200, disabled.get_json()
    body = disabled.get_json()
    assert (body["enabled"], body["disabled_reason"], body["description"]) == (
        False,
        "manual",
        "paused",
    )
    assert body["event_types"] == ["policy.contract_changed"]
    assert disabled.headers["ETag"] != etag
    enabled = client.patch(
        location, json={"enabled": True}, headers=headers | {"If-Match": disabled.headers["ETag"]}
    ).get_json()
    assert (enabled["enabled"], enabled["disabled_reason"], enabled["disabled_at"]) == (
        True,
        None,
        None,
    )
    assert actions(runtime, org_a.id)[-2:] == ["org:webhook-endpoint:update"] * 2


def test_unknown_event_types_and_fields_are_refused(
    client: FlaskClient, org_a: Org, auth: Auth, public_dns: FakeDns
):
    headers = auth(org_a, ADMIN)
    for body in (
        {"url": f"https://{PUBLIC}/", "event_types": ["account.exploded"]},
        {"url": f"https://{PUBLIC}/", "event_types": []},
        {"url": f"https://{PUBLIC}/", "event_types": ["policy.contract_changed"], "secret": "x"},
        {"event_types": ["policy.contract_changed"]},
    ):
        response = client.post(url(org_a), json=body, headers=headers)
        assert response.status_code == 422, body


def test_rotating_the_secret_shows_a_new_one_once(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, public_dns: FakeDns
):
    headers = auth(org_a, ADMIN)
    created = register(client, org_a, headers).get_json()
    rotated = client.post(url(org_a, f"/{created['id']}/rotate-secret"), headers=headers)
    assert rotated.status_code == 200
    body = rotated.get_json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["secret_rotated_at"] is not None
    assert actions(runtime, org_a.id)[-1] == "org:webhook-endpoint:rotate-secret"


def test_deleting_an_endpoint_needs_its_etag(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, public_dns: FakeDns
):
    headers = auth(org_a, ADMIN)
    response = register(client, org_a, headers)
    location = response.headers["Location"]
    assert client.delete(location, headers=headers).status_code == 428
    deleted = client.delete(location, headers=headers | {"If-Match": response.headers["ETag"]})
    assert deleted.status_code == 204
    assert client.get(location, headers=headers).status_code == 404
    assert actions(runtime, org_a.id)[-1] == "org:webhook-endpoint:delete"


def test_another_organisation_cannot_see_or_change_the_endpoints(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth, public_dns: FakeDns
):
    response = register(client, org_a, auth(org_a, ADMIN))
    endpoint_id = response.get_json()["id"]
    etag = response.headers["ETag"]
    b_admin = auth(org_b, ADMIN)
    # Through A's path: A does not exist for B.
    assert client.get(url(org_a), headers=b_admin).status_code == 404
    assert client.get(url(org_a, f"/{endpoint_id}"), headers=b_admin).status_code == 404
    patched = client.patch(
        url(org_a, f"/{endpoint_id}"), json={"enabled": False}, headers=b_admin | {"If-Match": etag}
    )
    assert patched.status_code == 404
    # Through B's own path: A's endpoint is not B's.
    for method, suffix in (
        ("get", ""),
        ("delete", ""),
        ("post", "/rotate-secret"),
        ("get", "/deliveries"),
    ):
        own = getattr(client, method)(
            url(org_b, f"/{endpoint_id}{suffix}"), headers=b_admin | {"If-Match": etag}
        )
        assert own.status_code == 404, (method, suffix)
    assert client.get(url(org_b), headers=b_admin).get_json()["items"] == []


def test_the_event_type_registry_is_listed(client: FlaskClient, org_a: Org, auth: Auth):
    response = client.get("/v1/webhook-event-types", headers=auth(org_a, "Organisation.Reader"))
    assert response.status_code == 200
    assert [item["type"] for item in response.get_json()["items"]] == [
        "policy.statement_published",
        "policy.contract_changed",
        "policy.objection_recorded",
        "organisation.residency_invalid",
        "account.created",
        "account.updated",
        "account.disabled",
        "account.enabled",
        "account.deleted",
        "account.restored",
        "account.purged",
        "data_records.ingested",
        "legal_hold.placed",
        "legal_hold.released",
        "retention.purged",
        "dsr.received",
        "dsr.extended",
        "dsr.due_soon",
        "dsr.overdue",
        "dsr.completed",
        "dsr.rejected",
        "dsr.cancelled",
        "dsr.rectified",
        "dsr.erased",
        "dsr.restricted",
        "support.access_requested",
        "support.access_started",
        "support.access_denied",
        "support.access_revoked",
        "support.access_ended",
        "support.access_expired",
        "support.access_withdrawn",
        "incident.reported",
        "incident.updated",
        "incident.closed",
        "audit.checkpoint",
    ]


def test_a_repeated_idempotent_registration_does_not_replay_or_keep_the_secret(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, public_dns: FakeDns
):
    headers = auth(org_a, ADMIN) | {"Idempotency-Key": "register-erp-hook"}
    body = {"url": f"https://{PUBLIC}/hook", "event_types": ["policy.contract_changed"]}
    first = client.post(url(org_a), json=body, headers=headers)
    assert first.status_code == 201
    assert first.headers["Cache-Control"] == "no-store"
    again = client.post(url(org_a), json=body, headers=headers)
    assert again.status_code == 409
    assert again.get_json()["code"] == "idempotent-answer-withheld"
    assert again.headers["Location"] == first.headers["Location"]
    with cross_organisation_session(runtime, reason="test: read the stored answers") as session:
        stored = session.scalars(select(IdempotencyRecord.response_body)).all()
    assert stored == [None]
    assert len(client.get(url(org_a), headers=auth(org_a, ADMIN)).get_json()["items"]) == 1
