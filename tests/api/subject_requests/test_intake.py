"""Filing data-subject requests: the employee through /v1/me, the organisation for its
accounts; routed to the organisation's queue, due after the effective response days, and an
open request of the same kind is joined, not doubled."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import RequestAction
from tests.api.organisations.helpers import audit_trail
from tests.api.subject_requests.helpers import (
    ADMIN,
    OWN,
    Auth,
    employee,
    file_for,
    file_own,
    queue_url,
)
from tests.conftest import Org
from tests.factories.webhooks import deliveries, make_endpoint


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_an_employees_access_request_lands_in_their_organisations_queue_due_in_30_days(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=["dsr.received"])
    make_endpoint(runtime, org_b.id, "https://hooks.example/b", event_types=["dsr.received"])
    account, me = employee(runtime, org_a, auth)
    request = file_own(client, me)
    assert (request["status"], request["kind"], request["account_id"]) == (
        "routed",
        "access",
        str(account),
    )
    assert request["routing"]["queue"] == "organisation"
    assert _at(request["due_at"]) - _at(request["received_at"]) == timedelta(days=30)
    assert [e["event"] for e in request["timeline"]] == ["received", "routed"]

    queue = client.get(queue_url(org_a), headers=auth(org_a, ADMIN)).get_json()["items"]
    assert [r["id"] for r in queue] == [request["id"]]
    assert client.get(queue_url(org_b), headers=auth(org_b, ADMIN)).get_json()["items"] == []
    assert [d.event_type for d in deliveries(runtime, org_a.id)] == ["dsr.received"]
    assert deliveries(runtime, org_b.id) == []
    actions = [e["action"] for e in audit_trail(runtime, org_a.id)]
    assert actions.count(RequestAction.File) == 1


def test_a_second_open_request_of_the_same_kind_is_joined_to_the_first(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    first = file_own(client, me)
    again = client.post(OWN, json={"kind": "access", "description": "again"}, headers=me)
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert again.get_json()["timeline"][-1]["event"] == "filed_again"
    assert len(client.get(OWN, headers=me).get_json()["items"]) == 1


def test_a_request_taken_by_phone_waits_for_verification_then_is_routed(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, _ = employee(runtime, org_a, auth)
    admin = auth(org_a, ADMIN)
    response = file_for(client, org_a, admin, account, channel="phone")
    assert response.status_code == 201, response.get_json()
    request = response.get_json()
    assert request["status"] == "verification_pending"
    verified = client.post(
        queue_url(org_a, f"/{request['id']}/verify"), json={"method": "call-back"}, headers=admin
    )
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["status"] == "routed"


def test_another_organisations_account_is_no_such_account(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    foreign, _ = employee(runtime, org_b, auth)
    response = file_for(client, org_a, auth(org_a, ADMIN), foreign)
    assert response.status_code == 422
    assert "account_id" in str(response.get_json())
