"""Where a request lands and when it is due: the employee's organisation (never another, never
the DPO for data the organisation controls), 30 days or what the contract says, and split in
two when part of the data is Facito's own."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.runtime import Runtime
from tests.api.contracts.helpers import OPERATOR, create_contract
from tests.api.subject_requests.helpers import (
    ADMIN,
    OFFICER,
    OWN,
    Auth,
    dpo_requests,
    employee,
    file_for,
    file_own,
    queue_rows,
    queue_url,
)
from tests.conftest import Org
from tests.factories.retention import PRODUCT, add_record
from tests.factories.webhooks import deliveries, make_endpoint

PROCESSOR_FOR_M365 = [{"code": PRODUCT, "role": "processor"}]


def _due_days(request: dict) -> timedelta:
    return datetime.fromisoformat(request["due_at"]) - datetime.fromisoformat(
        request["received_at"]
    )


def test_an_access_request_lands_in_the_employees_organisation_only_and_not_with_the_dpo(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    create_contract(client, org_a, auth(None, OPERATOR), products=PROCESSOR_FOR_M365)
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=["dsr.received"])
    make_endpoint(runtime, org_b.id, "https://hooks.example/b", event_types=["dsr.received"])
    account, me = employee(runtime, org_a, auth)
    add_record(runtime, org_a.id, account, category="identity.contact", occurred_at=utcnow())

    request = file_own(client, me)

    assert request["routing"]["queue"] == "organisation"
    assert request["routing"]["parts"] == ["organisation"]
    assert request["linked_request_id"] is None
    assert _due_days(request) == timedelta(days=30)
    assert [str(r.id) for r in queue_rows(runtime, org_a)] == [request["id"]]
    assert queue_rows(runtime, org_b) == []
    assert dpo_requests(runtime) == []
    (delivery,) = deliveries(runtime, org_a.id)
    assert delivery.event_type == "dsr.received"
    assert delivery.payload["data"]["request_id"] == request["id"]
    assert deliveries(runtime, org_b.id) == []
    # The officer of B does not find it by id either.
    other = client.get(queue_url(org_b, f"/{request['id']}"), headers=auth(org_b, OFFICER))
    assert other.status_code == 404


def test_a_contract_of_14_response_days_makes_the_request_due_14_days_after_receipt(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    create_contract(
        client,
        org_a,
        auth(None, OPERATOR),
        overrides={"dsr.response_days": 14},
        products=PROCESSOR_FOR_M365,
    )
    _, me_a = employee(runtime, org_a, auth)
    _, me_b = employee(runtime, org_b, auth, n=2)
    in_a, in_b = file_own(client, me_a), file_own(client, me_b)
    assert (_due_days(in_a), in_a["response_days"]) == (timedelta(days=14), 14)
    # B has no such contract: the statement's 30 days.
    assert (_due_days(in_b), in_b["response_days"]) == (timedelta(days=30), 30)
    assert in_a["timeline"][0]["details"]["response_days"] == 14


def test_a_request_over_data_facito_controls_is_split_with_a_linked_part_for_the_dpo(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    create_contract(client, org_a, auth(None, OPERATOR), products=PROCESSOR_FOR_M365)
    account, me = employee(runtime, org_a, auth)
    add_record(runtime, org_a.id, account, category="identity.contact", occurred_at=utcnow())
    add_record(runtime, org_a.id, account, category="commerce.payment", occurred_at=utcnow())

    request = file_own(client, me)

    assert request["routing"]["parts"] == ["organisation", "facito_dpo"]
    assert request["routing"]["categories"] == ["identity.contact"]
    (twin,) = dpo_requests(runtime)
    assert str(twin.id) == request["linked_request_id"]
    assert (twin.linked_request_id, twin.subject_organisation_id) == (
        uuid.UUID(request["id"]),
        org_a.id,
    )
    assert twin.routing["categories"] == ["commerce.payment"]
    assert (twin.status.value, twin.due_at) == ("routed", _at(request["due_at"]))
    assert [e["event"] for e in request["timeline"]] == ["received", "split", "routed"]
    assert queue_rows(runtime, org_b) == []


def test_a_request_limited_to_the_organisations_data_is_not_split(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    create_contract(client, org_a, auth(None, OPERATOR), products=PROCESSOR_FOR_M365)
    account, me = employee(runtime, org_a, auth)
    add_record(runtime, org_a.id, account, category="identity.contact", occurred_at=utcnow())
    add_record(runtime, org_a.id, account, category="commerce.payment", occurred_at=utcnow())

    request = file_own(client, me, scope={"categories": ["identity.contact"]})

    assert request["routing"]["parts"] == ["organisation"]
    assert request["scope"] == {"categories": ["identity.contact"]}
    assert dpo_requests(runtime) == []


def test_a_question_goes_to_the_organisation_even_over_data_facito_controls(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, me = employee(runtime, org_a, auth)
    add_record(runtime, org_a.id, account, category="sales.contact", occurred_at=utcnow())
    request = file_own(client, me, kind="question", description="Who sees my data?")
    assert (request["kind"], request["routing"]["parts"]) == ("question", ["organisation"])
    assert dpo_requests(runtime) == []


def test_the_queue_lists_the_request_for_the_organisations_admin_and_officer_alike(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    request = file_own(client, me)
    for role in (ADMIN, OFFICER):
        items = client.get(queue_url(org_a), headers=auth(org_a, role)).get_json()["items"]
        assert [r["id"] for r in items] == [request["id"]]
    assert client.get(OWN, headers=me).get_json()["items"][0]["id"] == request["id"]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_the_dpo_part_of_a_request_taken_by_phone_also_waits_for_verification(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, _ = employee(runtime, org_a, auth)
    add_record(runtime, org_a.id, account, category="sales.contact", occurred_at=utcnow())
    response = file_for(client, org_a, auth(org_a, ADMIN), account, channel="phone")
    assert response.status_code == 201, response.get_json()
    (twin,) = dpo_requests(runtime)
    assert (twin.status.value, twin.verified_at) == ("verification_pending", None)
    assert [e["event"] for e in twin.timeline] == ["received", "verification_pending"]
    assert [e["status"] for e in twin.timeline] == ["received", "verification_pending"]
