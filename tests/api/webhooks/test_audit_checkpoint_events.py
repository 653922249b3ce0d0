"""Each new checkpoint reaches the endpoints subscribed to `audit.checkpoint`, signed by the
webhook and by Facito's audit key; other organisations' endpoints get nothing."""

from __future__ import annotations

import json

from joserfc import jws
from joserfc.jwk import KeySet
from standardwebhooks import Webhook
from werkzeug import Request, Response

from facito_admin.audit_checkpoints.tasks import checkpoint_moved_heads
from tests.factories.audit import record_events
from tests.factories.webhooks import deliveries, make_endpoint, run_attempt

ADMIN = "Organisation.Admin"


def test_a_checkpoint_is_delivered_to_the_organisations_subscribed_endpoint(
    client, auth, runtime, org_a, org_b, receiver, local_receivers
):
    mine = make_endpoint(runtime, org_a.id, receiver.url(), event_types=["audit.checkpoint"])
    make_endpoint(runtime, org_a.id, receiver.url("/other"), event_types=["account.created"])
    make_endpoint(runtime, org_b.id, receiver.url("/b"), event_types=["audit.checkpoint"])
    received: list[dict] = []

    def verify(request: Request) -> Response:
        received.append(Webhook(mine.secret).verify(request.get_data(), dict(request.headers)))
        return Response("", status=204)

    receiver.server.expect_request("/hook", method="POST").respond_with_handler(verify)
    made = client.post(
        f"/v1/organisations/{org_a.id}/audit-checkpoints", headers=auth(org_a, ADMIN)
    )
    assert made.status_code == 201
    checkpoint = made.get_json()

    [delivery] = deliveries(runtime, org_a.id)
    assert delivery.event_type == "audit.checkpoint"
    assert run_attempt(runtime, org_a.id, delivery.id).status.value == "succeeded"
    [payload] = received
    assert payload["type"] == "audit.checkpoint"
    data = payload["data"]
    assert data | {"issued_at": None} == {
        "checkpoint_id": checkpoint["id"],
        "seq": checkpoint["seq"],
        "hash": checkpoint["hash"],
        "issued_at": None,
        "key_id": checkpoint["key_id"],
        "made_by": "request",
        "jws": checkpoint["jws"],
    }
    # What arrived verifies with the published keys, and /verify takes it back.
    keys = KeySet.import_key_set(client.get("/.well-known/facito-audit-keys").get_json())
    assert json.loads(jws.deserialize_compact(data["jws"], keys).payload)["seq"] == data["seq"]
    report = client.get(
        f"/v1/organisations/{org_a.id}/audit-events/verify",
        headers=auth(org_a, ADMIN),
        query_string={"checkpoint": data["jws"]},
    ).get_json()
    assert report["checkpoint"]["matches"] is True
    # Org B made no checkpoint: its endpoint has nothing.
    assert deliveries(runtime, org_b.id) == []


def test_the_daily_checkpoints_are_delivered_once_per_moved_head(
    runtime, org_a, org_b, receiver, local_receivers
):
    make_endpoint(runtime, org_a.id, receiver.url(), event_types=["audit.checkpoint"])
    make_endpoint(runtime, org_b.id, receiver.url("/b"), event_types=["audit.checkpoint"])
    checkpoint_moved_heads(runtime)
    checkpoint_moved_heads(runtime)
    record_events(runtime, org_b.id, 1)
    checkpoint_moved_heads(runtime)
    a, b = deliveries(runtime, org_a.id), deliveries(runtime, org_b.id)
    assert [d.payload["data"]["made_by"] for d in a] == ["schedule"]
    assert [d.payload["data"]["seq"] for d in b] == [1, 2]
