"""The delivery log of an endpoint and the redeliver action, end to end with a local HTTPS
receiver that verifies every signature with the secret the API showed once."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask.testing import FlaskClient
from standardwebhooks import Webhook
from werkzeug import Request, Response

from facito_admin.db.session import unit_of_work
from facito_admin.jobs.models import JobState
from facito_admin.runtime import Runtime
from facito_admin.webhooks.events import WebhookEventType, publish_event
from tests.api.organisations.helpers import actions
from tests.conftest import Org
from tests.factories.webhooks import Receiver, job_row, make_endpoint, run_attempt
from tests.factories.webhooks import delivery as delivery_row

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"


def url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/webhook-endpoints{suffix}"


def publish(runtime: Runtime, org: Org, event_type: WebhookEventType) -> None:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        publish_event(session, organisation_id=org.id, event_type=event_type, data={"n": 1})


def test_a_registered_endpoint_receives_verified_events_and_a_redelivery(
    client: FlaskClient,
    runtime: Runtime,
    org_a: Org,
    auth: Auth,
    receiver: Receiver,
    local_receivers: object,
):
    headers = auth(org_a, ADMIN)
    created = client.post(
        url(org_a),
        json={"url": receiver.url(), "event_types": ["policy.contract_changed"]},
        headers=headers,
    ).get_json()
    received: list[tuple[str, dict]] = []

    def verify(request: Request) -> Response:
        payload = Webhook(created["secret"]).verify(request.get_data(), dict(request.headers))
        received.append((request.headers["webhook-id"], payload))
        return Response("", status=204)

    receiver.server.expect_request("/hook", method="POST").respond_with_handler(verify)
    publish(runtime, org_a, WebhookEventType.PolicyContractChanged)
    publish(runtime, org_a, WebhookEventType.PolicyStatementPublished)  # not subscribed

    deliveries_url = url(org_a, f"/{created['id']}/deliveries")
    [pending] = client.get(deliveries_url, headers=headers).get_json()["items"]
    assert (pending["status"], pending["attempts"], pending["event_type"]) == (
        "pending",
        0,
        "policy.contract_changed",
    )
    run_attempt(runtime, org_a.id, uuid.UUID(pending["id"]))
    delivered = client.get(f"{deliveries_url}/{pending['id']}", headers=headers).get_json()
    assert (delivered["status"], delivered["attempts"], delivered["last_response_status"]) == (
        "succeeded",
        1,
        204,
    )

    redeliver = client.post(f"{deliveries_url}/{pending['id']}/redeliver", headers=headers)
    assert redeliver.status_code == 202
    again = redeliver.get_json()
    assert (again["status"], again["attempts"]) == ("pending", 1)
    assert actions(runtime, org_a.id)[-1] == "org:webhook-delivery:redeliver"
    done = run_attempt(runtime, org_a.id, uuid.UUID(pending["id"]))
    assert (done.status.value, done.attempts) == ("succeeded", 2)
    # The same webhook-id both times: the receiver can tell a redelivery from a new event.
    assert [webhook_id for webhook_id, _ in received] == [pending["event_id"]] * 2
    assert received[0][1] == {
        "type": "policy.contract_changed",
        "timestamp": pending["payload"]["timestamp"],
        "data": {"n": 1},
    }

    succeeded = client.get(deliveries_url, headers=headers, query_string={"status": "pending"})
    assert succeeded.get_json()["items"] == []


def test_a_redeliver_replaces_a_waiting_retry(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    endpoint = make_endpoint(
        runtime, org_a.id, "https://hooks.example.test/", event_types=["policy.contract_changed"]
    )
    publish(runtime, org_a, WebhookEventType.PolicyContractChanged)
    deliveries_url = url(org_a, f"/{endpoint.id}/deliveries")
    [delivery] = client.get(deliveries_url, headers=auth(org_a, ADMIN)).get_json()["items"]
    first_job = _job_of(runtime, org_a, delivery["id"])

    answer = client.post(f"{deliveries_url}/{delivery['id']}/redeliver", headers=auth(org_a, ADMIN))
    assert answer.status_code == 202
    assert job_row(runtime, org_a.id, first_job).state is JobState.cancelled
    assert _job_of(runtime, org_a, delivery["id"]) != first_job


def _job_of(runtime: Runtime, org: Org, delivery_id: str) -> uuid.UUID:
    job_id = delivery_row(runtime, org.id, uuid.UUID(delivery_id)).job_id
    assert job_id is not None
    return job_id


def test_a_disabled_endpoint_cannot_be_redelivered_to(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    endpoint = make_endpoint(
        runtime, org_a.id, "https://hooks.example.test/", event_types=["policy.contract_changed"]
    )
    publish(runtime, org_a, WebhookEventType.PolicyContractChanged)
    deliveries_url = url(org_a, f"/{endpoint.id}/deliveries")
    [delivery] = client.get(deliveries_url, headers=auth(org_a, ADMIN)).get_json()["items"]
    etag = client.get(url(org_a, f"/{endpoint.id}"), headers=auth(org_a, ADMIN)).headers["ETag"]
    client.patch(
        url(org_a, f"/{endpoint.id}"),
        json={"enabled": False},
        headers=auth(org_a, ADMIN) | {"If-Match": etag},
    )
    answer = client.post(f"{deliveries_url}/{delivery['id']}/redeliver", headers=auth(org_a, ADMIN))
    assert answer.status_code == 409
    assert answer.get_json()["code"] == "webhook-endpoint-disabled"


def test_readers_see_deliveries_but_cannot_redeliver(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    endpoint = make_endpoint(
        runtime, org_a.id, "https://hooks.example.test/", event_types=["policy.contract_changed"]
    )
    publish(runtime, org_a, WebhookEventType.PolicyContractChanged)
    reader = auth(org_a, "Organisation.Reader")
    deliveries_url = url(org_a, f"/{endpoint.id}/deliveries")
    [delivery] = client.get(deliveries_url, headers=reader).get_json()["items"]
    assert client.get(f"{deliveries_url}/{delivery['id']}", headers=reader).status_code == 200
    assert (
        client.post(f"{deliveries_url}/{delivery['id']}/redeliver", headers=reader).status_code
        == 403
    )


def test_another_organisation_cannot_see_or_redeliver_the_deliveries(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    endpoint = make_endpoint(
        runtime, org_a.id, "https://hooks.example.test/", event_types=["policy.contract_changed"]
    )
    publish(runtime, org_a, WebhookEventType.PolicyContractChanged)
    [delivery] = client.get(
        url(org_a, f"/{endpoint.id}/deliveries"), headers=auth(org_a, ADMIN)
    ).get_json()["items"]
    b_admin = auth(org_b, ADMIN)
    for org in (org_a, org_b):
        base = url(org, f"/{endpoint.id}/deliveries")
        assert client.get(base, headers=b_admin).status_code == 404
        assert client.get(f"{base}/{delivery['id']}", headers=b_admin).status_code == 404
        redeliver = client.post(f"{base}/{delivery['id']}/redeliver", headers=b_admin)
        assert redeliver.status_code == 404
    assert "org:webhook-delivery:redeliver" not in actions(runtime, org_a.id)


def test_a_delivery_is_found_only_under_its_own_endpoint(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    first = make_endpoint(
        runtime, org_a.id, "https://hooks.example.test/1", event_types=["policy.contract_changed"]
    )
    second = make_endpoint(runtime, org_a.id, "https://hooks.example.test/2")
    publish(runtime, org_a, WebhookEventType.PolicyContractChanged)
    headers = auth(org_a, ADMIN)
    [delivery] = client.get(url(org_a, f"/{first.id}/deliveries"), headers=headers).get_json()[
        "items"
    ]
    wrong = client.get(url(org_a, f"/{second.id}/deliveries/{delivery['id']}"), headers=headers)
    assert wrong.status_code == 404
