"""Restriction (art. 18) through the API: fulfilled as a job, the subject's data is left out of
what integrations read (409 `processing-restricted`) and of advertising (preferences off,
source `restriction`) until an administrator lifts it; `dsr.restricted` tells the
organisation's systems. Another organisation can neither see nor lift it."""

from __future__ import annotations

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import RequestAction, RestrictionAction
from tests.api.organisations.helpers import audit_trail
from tests.api.subject_requests.helpers import (
    ADMIN,
    INTEGRATION,
    OWN,
    READER,
    Auth,
    employee,
    file_own,
    fulfil,
    read_request,
)
from tests.conftest import Org
from tests.factories.user_data import insert_records
from tests.factories.webhooks import deliveries, make_endpoint

ADVERTISING = ("interest_based_advertising", "partner_sharing")


def _data_paths(org: Org, account: object, record: object) -> list[str]:
    base = f"/v1/organisations/{org.id}/accounts/{account}"
    return [f"{base}/data", f"{base}/data/{record}", f"{base}/data-summary"]


def _preferences(client: FlaskClient, org: Org, account: object, headers: dict) -> dict:
    path = f"/v1/organisations/{org.id}/accounts/{account}/preferences"
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    return {s["setting"]: (s["value"], s["source"]) for s in response.get_json()["settings"]}


def _lift_url(org: Org, account: object) -> str:
    return f"/v1/organisations/{org.id}/accounts/{account}/processing-restriction/lift"


def test_a_restricted_accounts_data_is_withheld_from_integrations_and_advertising_until_lifted(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=["dsr.restricted"])
    make_endpoint(runtime, org_b.id, "https://hooks.example/b", event_types=["dsr.restricted"])
    subject, me = employee(runtime, org_a, auth)
    colleague, _ = employee(runtime, org_a, auth, 2)
    [record] = insert_records(runtime, org_a.id, subject)
    [colleagues] = insert_records(runtime, org_a.id, colleague, start=10)
    opted_in = client.patch("/v1/me/preferences", json={"partner_sharing": True}, headers=me)
    assert opted_in.status_code == 200, opted_in.get_json()
    admin, app = auth(org_a, ADMIN), auth(org_a, INTEGRATION, app=True)
    before = _preferences(client, org_a, subject, admin)
    assert [before[s] for s in ADVERTISING] == [(True, "default"), (True, "choice")]

    request = file_own(client, me, "restriction", description="I contest my data's accuracy")
    job = fulfil(client, runtime, org_a, admin, request["id"])
    assert job["state"] == "succeeded", job
    result = read_request(client, org_a, admin, request["id"])["results"]["restriction"]
    assert result["already_in_force"] is False

    for path in _data_paths(org_a, subject, record):
        refused = client.get(path, headers=app)
        assert refused.status_code == 409, (path, refused.get_json())
        assert refused.get_json()["code"] == "processing-restricted"
        # People of the organisation still read it: the data is kept, not given away.
        assert client.get(path, headers=admin).status_code == 200, path
    for path in _data_paths(org_a, colleague, colleagues):
        assert client.get(path, headers=app).status_code == 200, path
    during = _preferences(client, org_a, subject, app)
    assert [during[s] for s in ADVERTISING] == [(False, "restriction"), (False, "restriction")]
    [delivery] = deliveries(runtime, org_a.id)
    assert delivery.event_type == "dsr.restricted"
    assert delivery.payload["data"]["restriction_id"] == result["restriction_id"]
    assert deliveries(runtime, org_b.id) == []

    # Another organisation cannot lift it, nor find it; a reader may not lift it either.
    assert (
        client.post(
            _lift_url(org_b, subject), json={"reason": "x"}, headers=auth(org_b, ADMIN)
        ).status_code
        == 404
    )
    assert (
        client.post(
            _lift_url(org_a, subject), json={"reason": "x"}, headers=auth(org_a, READER)
        ).status_code
        == 403
    )

    lifted = client.post(
        _lift_url(org_a, subject), json={"reason": "Accuracy verified"}, headers=admin
    )
    assert lifted.status_code == 200, lifted.get_json()
    assert lifted.get_json()["id"] == result["restriction_id"]
    assert lifted.get_json()["lift_reason"] == "Accuracy verified"
    for path in _data_paths(org_a, subject, record):
        assert client.get(path, headers=app).status_code == 200, path
    assert _preferences(client, org_a, subject, admin) == before
    # The subject reads of the lift on their own request.
    own = client.get(f"{OWN}/{request['id']}", headers=me).get_json()
    assert own["timeline"][-1]["event"] == "restriction_lifted"
    again = client.post(_lift_url(org_a, subject), json={"reason": "again"}, headers=admin)
    assert again.status_code == 404
    actions = [e["action"] for e in audit_trail(runtime, org_a.id)]
    assert (actions.count(RequestAction.Restrict), actions.count(RestrictionAction.Lift)) == (1, 1)


def test_restricting_an_account_already_restricted_keeps_the_one_restriction(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    admin = auth(org_a, ADMIN)
    first = file_own(client, me, "restriction")
    assert fulfil(client, runtime, org_a, admin, first["id"])["state"] == "succeeded"
    completed = client.post(
        f"/v1/organisations/{org_a.id}/data-subject-requests/{first['id']}/complete",
        json={"summary": "Restricted"},
        headers=admin,
    )
    assert completed.status_code == 200, completed.get_json()
    second = file_own(client, me, "restriction")
    assert second["id"] != first["id"]
    assert fulfil(client, runtime, org_a, admin, second["id"])["state"] == "succeeded"

    one = read_request(client, org_a, admin, first["id"])["results"]["restriction"]
    two = read_request(client, org_a, admin, second["id"])["results"]["restriction"]
    assert two["already_in_force"] is True
    assert two["restriction_id"] == one["restriction_id"]
