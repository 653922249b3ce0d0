"""An incident Facito records reaches exactly the affected organisations, at once: a notice of
their own and a signed `incident.reported` webhook; updates and the closure follow; nothing
reaches an organisation it does not affect, and none learns which others it affects."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from standardwebhooks import Webhook
from werkzeug import Request, Response

from facito_admin.audit.models import AuditEvent, FacitoAuditEvent
from facito_admin.incidents import fanout
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.incidents import INCIDENT_EVENTS, incident_body
from tests.factories.webhooks import Endpoint, Receiver, deliveries, make_endpoint, run_attempt

Auth = Callable[..., dict[str, str]]
DPO = "Facito.PrivacyOfficer"


def _incidents(org: Org) -> str:
    return f"/v1/organisations/{org.id}/incidents"


def _types(runtime: Runtime, org: Org) -> list[str]:
    return [d.event_type for d in deliveries(runtime, org.id)]


def _org_actions(runtime: Runtime, org: Org) -> list[str]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def _facito_actions(runtime: Runtime) -> list[str]:
    with runtime.session() as session:
        return list(session.scalars(select(FacitoAuditEvent.action).order_by(FacitoAuditEvent.seq)))


@pytest.fixture
def endpoints(
    runtime: Runtime, org_a: Org, org_b: Org, org_c: Org, receiver: Receiver, local_receivers
) -> dict[str, Endpoint]:
    """An endpoint for the incident events in each of the three organisations."""
    return {
        org.slug: make_endpoint(
            runtime, org.id, receiver.url(f"/{org.slug}"), event_types=INCIDENT_EVENTS
        )
        for org in (org_a, org_b, org_c)
    }


def _report(client: FlaskClient, auth: Auth, *orgs: Org, role: str = DPO) -> dict:
    response = client.post(
        "/v1/incidents", json=incident_body([o.id for o in orgs]), headers=auth(None, role)
    )
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith(f"/v1/incidents/{response.get_json()['id']}")
    return response.get_json()


def test_an_incident_reaches_exactly_the_affected_organisations_endpoints_and_notices(
    client: FlaskClient,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    org_c: Org,
    auth: Auth,
    receiver: Receiver,
    endpoints: dict[str, Endpoint],
):
    received: dict[str, list[dict]] = {}
    for slug, endpoint in endpoints.items():

        def verify(request: Request, slug: str = slug, secret: str = endpoint.secret) -> Response:
            payload = Webhook(secret).verify(request.get_data(), dict(request.headers))
            received.setdefault(slug, []).append(payload)
            return Response("", status=204)

        receiver.server.expect_request(f"/{slug}", method="POST").respond_with_handler(verify)

    incident = _report(client, auth, org_a, org_b)

    # Told at once: the deliveries are queued when the recording request has answered.
    assert _types(runtime, org_a) == ["incident.reported"]
    assert _types(runtime, org_b) == ["incident.reported"]
    assert _types(runtime, org_c) == []
    for org in (org_a, org_b):
        [delivery] = deliveries(runtime, org.id)
        assert run_attempt(runtime, org.id, delivery.id).status.value == "succeeded"
    assert set(received) == {"org-a", "org-b"}
    [payload] = received["org-a"]
    assert payload["type"] == "incident.reported"
    assert payload["data"]["incident_id"] == incident["id"]
    assert payload["data"]["data_categories"] == ["identity.contact"]
    assert payload["data"]["authority_deadline"]
    # Nothing in what A receives names B (or any organisation).
    assert str(org_b.id) not in json.dumps(payload)

    for org in (org_a, org_b):
        listed = client.get(_incidents(org), headers=auth(org, "Organisation.Reader")).get_json()
        assert [i["id"] for i in listed["items"]] == [incident["id"]]
    assert (
        client.get(_incidents(org_c), headers=auth(org_c, "Organisation.Admin")).get_json()["items"]
        == []
    )
    unaffected = client.get(
        f"{_incidents(org_c)}/{incident['id']}", headers=auth(org_c, "Organisation.Admin")
    )
    assert unaffected.status_code == 404

    # Facito's chain holds the record; each affected organisation's chain its notice.
    assert _facito_actions(runtime) == ["facito:incident:record"]
    assert _org_actions(runtime, org_a)[-1] == "org:incident:notify"
    assert "org:incident:notify" in _org_actions(runtime, org_b)
    assert "org:incident:notify" not in _org_actions(runtime, org_c)


def test_the_organisations_view_never_names_the_other_affected_organisations(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    incident = _report(client, auth, org_a, org_b)
    facito = client.get(f"/v1/incidents/{incident['id']}", headers=auth(None, DPO)).get_json()
    assert {o["organisation_id"] for o in facito["organisations"]} == {str(org_a.id), str(org_b.id)}
    assert all(o["notified_at"] and o["delivered_seq"] == 0 for o in facito["organisations"])

    seen = client.get(
        f"{_incidents(org_a)}/{incident['id']}", headers=auth(org_a, "Privacy.Officer")
    )
    assert seen.status_code == 200
    assert "organisations" not in seen.get_json()
    assert str(org_b.id) not in seen.get_data(as_text=True)


def test_updates_and_the_closure_reach_each_affected_organisation_and_its_timeline(
    client: FlaskClient,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    auth: Auth,
    endpoints: dict[str, Endpoint],
):
    incident = _report(client, auth, org_a, org_b, role="Facito.Operator")
    updated = client.post(
        f"/v1/incidents/{incident['id']}/updates",
        json={"text": "Forensics found no copies outside Facito.", "measures": "Share removed."},
        headers=auth(None, DPO),
    )
    assert updated.status_code == 200, updated.get_json()
    assert updated.get_json()["measures"] == "Share removed."
    closed = client.post(
        f"/v1/incidents/{incident['id']}/close",
        json={"text": "Closed after review."},
        headers=auth(None, "Facito.Operator"),
    )
    assert closed.status_code == 200
    assert closed.get_json()["status"] == "closed"
    assert [u["kind"] for u in closed.get_json()["updates"]] == ["updated", "closed"]

    for org in (org_a, org_b):
        assert _types(runtime, org) == ["incident.reported", "incident.updated", "incident.closed"]
        assert _org_actions(runtime, org)[-3:] == [
            "org:incident:notify",
            "org:incident:notify-update",
            "org:incident:notify-close",
        ]
        seen = client.get(
            f"{_incidents(org)}/{incident['id']}", headers=auth(org, "Organisation.Admin")
        ).get_json()
        assert seen["status"] == "closed"
        assert [(u["seq"], u["kind"], u["text"]) for u in seen["updates"]] == [
            (1, "updated", "Forensics found no copies outside Facito."),
            (2, "closed", "Closed after review."),
        ]
    updated_payload = deliveries(runtime, org_a.id)[1].payload["data"]
    assert updated_payload["text"] == "Forensics found no copies outside Facito."
    assert updated_payload["measures"] == "Share removed."
    assert _facito_actions(runtime) == [
        "facito:incident:record",
        "facito:incident:update",
        "facito:incident:close",
    ]

    # A closed incident takes nothing more.
    again = client.post(
        f"/v1/incidents/{incident['id']}/updates", json={"text": "More"}, headers=auth(None, DPO)
    )
    assert again.status_code == 409
    assert again.get_json()["code"] == "incident-closed"
    assert (
        client.get(
            _incidents(org_a) + "?status=open", headers=auth(org_a, "Organisation.Admin")
        ).get_json()["items"]
        == []
    )


def test_an_update_that_names_another_organisation_notifies_it_at_once(
    client: FlaskClient,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    org_c: Org,
    auth: Auth,
    endpoints: dict[str, Endpoint],
):
    incident = _report(client, auth, org_a)
    assert _types(runtime, org_b) == []
    response = client.post(
        f"/v1/incidents/{incident['id']}/updates",
        json={
            "text": "The share also held B's backups.",
            "organisation_ids": [str(org_b.id), str(org_a.id)],
        },
        headers=auth(None, DPO),
    )
    assert response.status_code == 200, response.get_json()
    assert _types(runtime, org_a) == ["incident.reported", "incident.updated"]
    # B hears of the incident as it now stands (one reported event, the update included).
    assert _types(runtime, org_b) == ["incident.reported"]
    assert _types(runtime, org_c) == []
    seen = client.get(
        f"{_incidents(org_b)}/{incident['id']}", headers=auth(org_b, "Organisation.Reader")
    ).get_json()
    assert [u["text"] for u in seen["updates"]] == ["The share also held B's backups."]
    added = {o["organisation_id"]: o for o in response.get_json()["organisations"]}
    assert set(added) == {str(org_a.id), str(org_b.id)}
    assert _org_actions(runtime, org_b)[-1] == "org:incident:notify"


def test_a_failed_fanout_leaves_the_answer_alone_and_the_scan_delivers_it(
    client: FlaskClient,
    runtime: Runtime,
    org_a: Org,
    auth: Auth,
    monkeypatch: pytest.MonkeyPatch,
    endpoints: dict[str, Endpoint],
):
    def broken(_runtime: Runtime, _incident_id: uuid.UUID) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(fanout, "deliver_incident", broken)
    incident = _report(client, auth, org_a)
    assert _types(runtime, org_a) == []
    monkeypatch.undo()

    fanout.scan_for_incident_notices(runtime)
    assert _types(runtime, org_a) == ["incident.reported"]
    fanout.scan_for_incident_notices(runtime)  # a second run tells nothing twice
    assert _types(runtime, org_a) == ["incident.reported"]
    listed = client.get(_incidents(org_a), headers=auth(org_a, "Organisation.Admin")).get_json()
    assert [i["id"] for i in listed["items"]] == [incident["id"]]


def test_a_rolled_back_incident_tells_nobody(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    body = incident_body([org_a.id, uuid.uuid4()])
    response = client.post("/v1/incidents", json=body, headers=auth(None, DPO))
    assert response.status_code == 422
    assert (
        client.get(_incidents(org_a), headers=auth(org_a, "Organisation.Admin")).get_json()["items"]
        == []
    )
    assert client.get("/v1/incidents", headers=auth(None, DPO)).get_json()["items"] == []
