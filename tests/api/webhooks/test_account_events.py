"""Account changes made over REST and SCIM reach the endpoints subscribed to them, signed, in the
order they happened; unsubscribed endpoints, other organisations and rolled-back changes get
nothing. (Directory sync: tests/integration/directory_sync/test_account_webhooks.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from standardwebhooks import Webhook
from werkzeug import Request, Response

from facito_admin.accounts import service as account_service
from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from facito_admin.webhooks.events import WebhookEventType, forget_subscribers, publish_event
from facito_admin.webhooks.models import WebhookEndpoint
from tests.api.accounts.helpers import account_url, accounts_url, etag
from tests.api.scim.conftest import SCIM, create_scim_token, new_user, patch, scim_a
from tests.conftest import Org
from tests.factories.accounts import account_fields
from tests.factories.audit import admin_ctx
from tests.factories.webhooks import Receiver, deliveries, make_endpoint, run_attempt

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"
ACCOUNT_EVENTS = [
    "account.created",
    "account.updated",
    "account.disabled",
    "account.enabled",
    "account.deleted",
    "account.restored",
]


def _receiving(receiver: Receiver, secret: str) -> list[dict]:
    """Every verified payload the receiver gets, in order."""
    received: list[dict] = []

    def verify(request: Request) -> Response:
        received.append(Webhook(secret).verify(request.get_data(), dict(request.headers)))
        return Response("", status=204)

    receiver.server.expect_request("/hook", method="POST").respond_with_handler(verify)
    return received


def _deliver_all(runtime: Runtime, org: Org) -> None:
    for delivery in deliveries(runtime, org.id):
        assert run_attempt(runtime, org.id, delivery.id).status.value == "succeeded"


def _types(runtime: Runtime, org: Org) -> list[str]:
    return [d.event_type for d in deliveries(runtime, org.id)]


@pytest.fixture
def endpoints(runtime: Runtime, org_a: Org, org_b: Org, receiver: Receiver, local_receivers):
    """Org A: one endpoint for the account events, one for something else; org B: one for the
    account events."""
    subscribed = make_endpoint(runtime, org_a.id, receiver.url(), event_types=ACCOUNT_EVENTS)
    make_endpoint(
        runtime, org_a.id, receiver.url("/other"), event_types=["policy.contract_changed"]
    )
    make_endpoint(runtime, org_b.id, receiver.url("/b"), event_types=ACCOUNT_EVENTS)
    return subscribed


__all__ = ["create_scim_token", "scim_a"]  # fixtures of the SCIM tests, used here too


def test_every_rest_account_change_is_delivered_to_the_subscribed_endpoint(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth, receiver, endpoints
):
    received = _receiving(receiver, endpoints.secret)
    headers = auth(org_a, ADMIN)
    created = client.post(
        accounts_url(org_a),
        json={"user_principal_name": "ada@example.com", "display_name": "Ada Lovelace"},
        headers=headers,
    ).get_json()
    account = created["id"]
    changed = client.patch(
        account_url(org_a, account),
        json={"department": "Engines", "display_name": "Ada Lovelace"},
        headers=headers | {"If-Match": etag(client, org_a, account, headers)},
    )
    assert changed.status_code == 200
    assert client.post(account_url(org_a, account, "/disable"), headers=headers).status_code == 200
    assert client.post(account_url(org_a, account, "/enable"), headers=headers).status_code == 200
    deleted = client.delete(
        account_url(org_a, account),
        headers=headers | {"If-Match": etag(client, org_a, account, headers)},
    )
    assert deleted.status_code == 200
    purge_after = deleted.get_json()["purge_after"]
    assert client.post(account_url(org_a, account, "/restore"), headers=headers).status_code == 200

    assert _types(runtime, org_a) == ACCOUNT_EVENTS
    _deliver_all(runtime, org_a)
    assert [(p["type"], p["data"]) for p in received] == [
        ("account.created", {"account_id": account, "status": "active", "source": "manual"}),
        (
            "account.updated",
            # The names of the fields that changed, never their values.
            {
                "account_id": account,
                "status": "active",
                "source": "manual",
                "fields": ["department"],
            },
        ),
        ("account.disabled", {"account_id": account, "status": "disabled", "source": "manual"}),
        ("account.enabled", {"account_id": account, "status": "active", "source": "manual"}),
        (
            "account.deleted",
            {
                "account_id": account,
                "status": "deleted",
                "source": "manual",
                "purge_after": purge_after.replace("+00:00", "Z"),
            },
        ),
        ("account.restored", {"account_id": account, "status": "active", "source": "manual"}),
    ]
    assert deliveries(runtime, org_b.id) == []


def test_an_update_that_changes_nothing_publishes_nothing(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, endpoints
):
    headers = auth(org_a, ADMIN)
    account = client.post(accounts_url(org_a), json=account_fields(1), headers=headers).get_json()
    same = client.patch(
        account_url(org_a, account["id"]),
        json={"department": account["department"]},
        headers=headers | {"If-Match": etag(client, org_a, account["id"], headers)},
    )
    assert same.status_code == 200
    assert _types(runtime, org_a) == ["account.created"]


def test_scim_provisioning_publishes_the_same_events(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, scim_a, receiver, endpoints
):
    received = _receiving(receiver, endpoints.secret)
    created = client.post(f"{SCIM}/Users", json=new_user("grace@example.com"), headers=scim_a)
    assert created.status_code == 201
    user = created.json["id"]
    steps = [
        patch({"op": "replace", "path": "displayName", "value": "Grace Hopper"}),
        patch({"op": "replace", "path": "active", "value": False}),
        patch({"op": "replace", "path": "active", "value": True}),
    ]
    for body in steps:
        assert client.patch(f"{SCIM}/Users/{user}", json=body, headers=scim_a).status_code == 200
    assert client.delete(f"{SCIM}/Users/{user}", headers=scim_a).status_code == 204

    assert _types(runtime, org_a) == ACCOUNT_EVENTS[:5]
    _deliver_all(runtime, org_a)
    assert [p["data"]["source"] for p in received] == ["scim"] * 5
    assert [p["data"]["status"] for p in received] == [
        "active",
        "active",
        "disabled",
        "active",
        "deleted",
    ]
    assert received[1]["data"]["fields"] == ["display_name"]
    assert {p["data"]["account_id"] for p in received} == {user}
    assert deliveries(runtime, org_b.id) == []


def test_a_failed_request_publishes_nothing(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, scim_a, endpoints
):
    headers = auth(org_a, ADMIN)
    body = account_fields(1)
    assert client.post(accounts_url(org_a), json=body, headers=headers).status_code == 201
    taken = client.post(accounts_url(org_a), json=body, headers=headers)
    assert taken.status_code == 409
    # SCIM PUT of a minor's disabled account: the update is published, then enabling it is
    # refused (no guardian consent) and the whole request rolls back, delivery included.
    minor = client.post(
        accounts_url(org_a),
        json=account_fields("kid", is_minor=True, status="disabled"),
        headers=headers,
    )
    assert minor.status_code == 201, minor.get_json()
    before = _types(runtime, org_a)
    user = client.get(f"{SCIM}/Users/{minor.get_json()['id']}", headers=scim_a).json
    user["displayName"] = "Renamed"
    user["active"] = True
    refused = client.put(f"{SCIM}/Users/{user['id']}", json=user, headers=scim_a)
    assert refused.status_code >= 400
    assert _types(runtime, org_a) == before == ["account.created", "account.created"]


def test_a_rolled_back_transaction_leaves_no_delivery_and_no_job(
    runtime: Runtime, org_a: Org, endpoints
):
    with (
        pytest.raises(RuntimeError),
        unit_of_work(runtime, organisation_id=org_a.id) as session,
    ):
        account_service.create_account(session, admin_ctx(org_a.id), fields=account_fields(1))
        raise RuntimeError("the request failed after the change")
    assert deliveries(runtime, org_a.id) == []


def test_an_endpoint_registered_in_the_same_transaction_gets_the_later_events(
    runtime: Runtime, org_a: Org, endpoints
):
    """The endpoint set is read once per transaction; registering one forgets it."""
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        publish_event(
            session,
            organisation_id=org_a.id,
            event_type=WebhookEventType.LegalHoldPlaced,
            data={"n": 1},
        )
        session.add(
            WebhookEndpoint(
                id=uuid.uuid4(),
                organisation_id=org_a.id,
                url="https://hooks.example.test/late",
                description=None,
                event_types=["legal_hold.placed"],
                enabled=True,
                secret_encrypted="x",
            )
        )
        session.flush()
        forget_subscribers(session)
        publish_event(
            session,
            organisation_id=org_a.id,
            event_type=WebhookEventType.LegalHoldPlaced,
            data={"n": 2},
        )
    assert [d.payload["data"]["n"] for d in deliveries(runtime, org_a.id)] == [2]
