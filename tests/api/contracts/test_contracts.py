"""Contracts: operators record them, the organisation reads them, periods never overlap,
changes need If-Match, and what governed stays as it governed."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import timedelta

import pytest

from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.errors import DomainError
from facito_admin.policies.actions import PolicyAction
from facito_admin.policies.contracts import service as contracts
from facito_admin.runtime import Runtime
from tests.api.accounts.helpers import list_all
from tests.api.contracts.helpers import (
    ADMIN,
    OPERATOR,
    contract_body,
    contract_url,
    contracts_url,
    create_contract,
    field_errors,
    rfc3339,
)
from tests.api.organisations.helpers import actions, audit_trail
from tests.conftest import Org
from tests.factories.audit import admin_ctx


def test_an_operator_records_a_contract_and_the_organisation_reads_it(
    client, runtime, org_a: Org, org_b: Org, auth
):
    operator = auth(None, OPERATOR)
    body = contract_body(
        overrides={"dsr.response_days": 14},
        products=[
            {"code": "website-hosting", "role": "processor"},
            {"code": "web-development", "role": "controller"},
        ],
    )
    response = client.post(contracts_url(org_a), json=body, headers=operator)
    assert response.status_code == 201, response.get_json()
    contract = response.get_json()
    assert contract["reference"] == "FAC-2026-001"
    assert contract["status"] == "in_force"
    assert contract["overrides"] == {"dsr.response_days": 14}
    assert contract["products"] == [
        {"code": "web-development", "role": "controller"},
        {"code": "website-hosting", "role": "processor"},
    ]
    assert contract["organisation_id"] == str(org_a.id)
    for role in (ADMIN, "Organisation.Reader", "Privacy.Officer"):
        read = client.get(response.headers["Location"], headers=auth(org_a, role))
        assert read.status_code == 200, role
        assert read.get_json() == contract
        assert read.headers["ETag"] == response.headers["ETag"]
    trail = audit_trail(runtime, org_a.id)
    assert trail[-1]["action"] == PolicyAction.ContractCreate
    assert trail[-1]["target_id"] == contract["id"]
    assert trail[-1]["details"]["contract"]["overrides"] == {"dsr.response_days": 14}


def test_the_other_organisation_cannot_see_or_change_the_contracts(
    client, org_a: Org, org_b: Org, auth
):
    contract, tag = create_contract(client, org_a, auth(None, OPERATOR))
    other = auth(org_b, ADMIN)
    assert client.get(contract_url(org_a, contract["id"]), headers=other).status_code == 404
    assert client.get(contracts_url(org_a), headers=other).status_code == 404
    # Through its own path, B finds no contract of A either.
    assert client.get(contract_url(org_b, contract["id"]), headers=other).status_code == 404
    assert client.get(contracts_url(org_b), headers=other).get_json()["items"] == []
    operator_on_b = auth(None, OPERATOR)
    response = client.patch(
        contract_url(org_b, contract["id"]),
        json={"reference": "X"},
        headers=operator_on_b | {"If-Match": tag},
    )
    assert response.status_code == 404


def test_organisation_roles_read_contracts_but_only_operators_write_them(client, org_a: Org, auth):
    response = client.post(contracts_url(org_a), json=contract_body(), headers=auth(org_a, ADMIN))
    assert response.status_code == 403
    assert "org:contracts:write" in response.get_json()["missing_permissions"]
    integration = auth(org_a, "Integration.ReadWrite", app=True)
    assert client.get(contracts_url(org_a), headers=integration).status_code == 403


def test_overrides_are_checked_against_the_policy_parameters(client, runtime, org_a: Org, auth):
    before = actions(runtime, org_a.id)
    body = contract_body(
        overrides={"dsr.response_days": 45, "dsr.surely_not": 1, "residency.eea_only": "yes"}
    )
    response = client.post(contracts_url(org_a), json=body, headers=auth(None, OPERATOR))
    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == {
        "overrides.dsr.response_days",
        "overrides.dsr.surely_not",
        "overrides.residency.eea_only",
    }
    assert "at most 30" in errors["overrides.dsr.response_days"]
    assert actions(runtime, org_a.id) == before


def test_products_come_from_the_catalogue_each_once_and_each_with_a_role(client, org_a: Org, auth):
    operator = auth(None, OPERATOR)
    unknown = contract_body(products=[{"code": "time-machine", "role": "processor"}])
    response = client.post(contracts_url(org_a), json=unknown, headers=operator)
    assert response.status_code == 422
    assert "products.0.code" in field_errors(response)
    twice = contract_body(
        products=[
            {"code": "website-hosting", "role": "processor"},
            {"code": "website-hosting", "role": "controller"},
        ]
    )
    response = client.post(contracts_url(org_a), json=twice, headers=operator)
    assert response.status_code == 422
    assert "products.1.code" in field_errors(response)
    roleless = contract_body(products=[{"code": "website-hosting"}])
    response = client.post(contracts_url(org_a), json=roleless, headers=operator)
    assert response.status_code == 422
    assert "products.0.role" in field_errors(response)
    none = contract_body()
    none["products"] = []
    assert client.post(contracts_url(org_a), json=none, headers=operator).status_code == 422


def test_the_end_must_follow_the_start_and_the_reference_is_unique(client, org_a: Org, auth):
    operator = auth(None, OPERATOR)
    now = utcnow()
    backwards = contract_body(start=now, end=now - timedelta(days=1))
    response = client.post(contracts_url(org_a), json=backwards, headers=operator)
    assert response.status_code == 422
    assert "effective_to" in field_errors(response)
    naive = contract_body()
    naive["effective_from"] = "2026-01-01T00:00:00"
    assert client.post(contracts_url(org_a), json=naive, headers=operator).status_code == 422
    create_contract(client, org_a, operator, start=now, end=now + timedelta(days=10))
    again = contract_body(start=now + timedelta(days=20))
    response = client.post(contracts_url(org_a), json=again, headers=operator)
    assert response.status_code == 409
    assert response.get_json()["code"] == "already-exists"


def test_overlapping_contracts_of_one_organisation_are_refused_naming_the_other(
    client, runtime, org_a: Org, org_b: Org, auth
):
    operator = auth(None, OPERATOR)
    start = utcnow() + timedelta(days=1)
    first, _ = create_contract(
        client, org_a, operator, reference="C-1", start=start, end=start + timedelta(days=365)
    )
    overlapping = contract_body("C-2", start=start + timedelta(days=300))
    response = client.post(contracts_url(org_a), json=overlapping, headers=operator)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["code"] == "contract-overlap"
    assert problem["other_contract"]["id"] == first["id"]
    assert problem["other_contract"]["reference"] == "C-1"
    # Back to back is no overlap (the end is exclusive), nor is another organisation's period.
    create_contract(client, org_a, operator, reference="C-2", start=start + timedelta(days=365))
    create_contract(client, org_b, operator, reference="C-1", start=start)


def test_two_concurrent_overlapping_creates_record_only_one(runtime: Runtime, org_a: Org):
    start = utcnow() + timedelta(days=1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def record(reference: str) -> None:
        barrier.wait()
        try:
            with unit_of_work(runtime, organisation_id=org_a.id) as session:
                contracts.create_contract(
                    session,
                    admin_ctx(org_a.id),
                    reference=reference,
                    signed_on=start.date() - timedelta(days=2),
                    effective_from=start,
                    effective_to=None,
                    products=[{"code": "website-hosting", "role": "processor"}],
                    overrides={},
                )
            outcomes.append("created")
        except DomainError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=record, args=(f"C-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["contract-overlap", "created"]


def test_changes_need_the_current_etag(client, runtime, org_a: Org, auth):
    operator = auth(None, OPERATOR)
    contract, tag = create_contract(client, org_a, operator, start=utcnow() + timedelta(days=5))
    url = contract_url(org_a, contract["id"])
    assert client.patch(url, json={"reference": "R-2"}, headers=operator).status_code == 428
    assert client.delete(url, headers=operator).status_code == 428
    changed = client.patch(url, json={"reference": "R-2"}, headers=operator | {"If-Match": tag})
    assert changed.status_code == 200, changed.get_json()
    assert changed.headers["ETag"] != tag
    stale = client.patch(url, json={"reference": "R-3"}, headers=operator | {"If-Match": tag})
    assert stale.status_code == 412
    assert audit_trail(runtime, org_a.id)[-1]["details"]["before"] == {"reference": "FAC-2026-001"}


def test_a_scheduled_contract_changes_freely_and_can_be_deleted(client, runtime, org_a, auth):
    operator = auth(None, OPERATOR)
    start = utcnow() + timedelta(days=5)
    contract, tag = create_contract(client, org_a, operator, start=start)
    assert contract["status"] == "scheduled"
    url = contract_url(org_a, contract["id"])
    response = client.patch(
        url,
        json={"overrides": {"dsr.response_days": 21}, "effective_from": rfc3339(start)},
        headers=operator | {"If-Match": tag},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["overrides"] == {"dsr.response_days": 21}
    deleted = client.delete(url, headers=operator | {"If-Match": response.headers["ETag"]})
    assert deleted.status_code == 204
    assert client.get(url, headers=operator).status_code == 404
    assert actions(runtime, org_a.id)[-1] == PolicyAction.ContractDelete


def test_a_scheduled_contract_cannot_be_moved_to_start_in_the_past(
    client, runtime, org_a: Org, org_b: Org, auth
):
    operator = auth(None, OPERATOR)
    contract, tag = create_contract(client, org_a, operator, start=utcnow() + timedelta(days=5))
    response = client.patch(
        contract_url(org_a, contract["id"]),
        json={"effective_from": rfc3339(utcnow() - timedelta(days=1))},
        headers=operator | {"If-Match": tag},
    )
    assert response.status_code == 422
    assert "effective_from" in field_errors(response)
    other = client.patch(
        contract_url(org_b, contract["id"]),
        json={"effective_from": rfc3339(utcnow() + timedelta(days=6))},
        headers=operator | {"If-Match": tag},
    )
    assert other.status_code == 404


def test_a_cursor_that_is_not_ours_is_refused(client, org_a: Org, auth):
    naive = base64.urlsafe_b64encode(
        json.dumps(["2020-01-01T00:00:00", str(uuid.uuid4())]).encode()
    ).decode()
    overflowing = base64.urlsafe_b64encode(
        json.dumps(["9999-12-31T23:59:59-05:00", str(uuid.uuid4())]).encode()
    ).decode()
    for cursor in (naive, overflowing):
        response = client.get(
            contracts_url(org_a), query_string={"cursor": cursor}, headers=auth(org_a, ADMIN)
        )
        assert response.status_code == 422, cursor


def test_a_contract_in_force_keeps_its_terms_and_is_ended_by_termination(
    client, runtime, org_a: Org, auth
):
    operator = auth(None, OPERATOR)
    contract, tag = create_contract(client, org_a, operator, overrides={"dsr.response_days": 14})
    url = contract_url(org_a, contract["id"])
    headers = operator | {"If-Match": tag}
    response = client.patch(url, json={"overrides": {"dsr.response_days": 10}}, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "contract-in-force"
    assert response.get_json()["fields"] == ["overrides"]
    assert client.delete(url, headers=headers).status_code == 409
    past = rfc3339(utcnow() - timedelta(minutes=5))
    response = client.patch(url, json={"effective_to": past}, headers=headers)
    assert response.status_code == 422
    # The reference and the signing date may still be corrected.
    corrected = client.patch(url, json={"signed_on": "2026-01-14"}, headers=headers)
    assert corrected.status_code == 200
    ended_at = utcnow() + timedelta(days=30)
    terminated = client.post(
        contract_url(org_a, contract["id"], "/terminate"),
        json={"effective_to": rfc3339(ended_at), "reason": "replaced by FAC-2026-002"},
        headers=operator | {"If-Match": corrected.headers["ETag"]},
    )
    assert terminated.status_code == 200, terminated.get_json()
    body = terminated.get_json()
    assert body["effective_to"].startswith(ended_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["termination_reason"] == "replaced by FAC-2026-002"
    assert body["status"] == "in_force"
    trail = audit_trail(runtime, org_a.id)
    assert trail[-1]["action"] == PolicyAction.ContractTerminate
    assert trail[-1]["details"]["reason"] == "replaced by FAC-2026-002"
    # Terminating ends earlier only: not after the end it has now.
    later = client.post(
        contract_url(org_a, contract["id"], "/terminate"),
        json={"effective_to": rfc3339(ended_at + timedelta(days=1)), "reason": "again"},
        headers=operator | {"If-Match": terminated.headers["ETag"]},
    )
    assert later.status_code == 422


def test_terminating_without_an_instant_ends_the_contract_now(client, org_a: Org, auth):
    operator = auth(None, OPERATOR)
    contract, tag = create_contract(client, org_a, operator)
    response = client.post(
        contract_url(org_a, contract["id"], "/terminate"),
        json={"reason": "customer left"},
        headers=operator | {"If-Match": tag},
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "ended"
    again = client.post(
        contract_url(org_a, contract["id"], "/terminate"),
        json={"reason": "twice"},
        headers=operator | {"If-Match": response.headers["ETag"]},
    )
    assert again.status_code == 409


def test_the_list_pages_through_contracts_in_the_order_they_take_effect(client, org_a: Org, auth):
    operator = auth(None, OPERATOR)
    start = utcnow() + timedelta(days=1)
    for n in (2, 0, 1):
        create_contract(
            client,
            org_a,
            operator,
            reference=f"C-{n}",
            start=start + timedelta(days=10 * n),
            end=start + timedelta(days=10 * n + 5),
        )
    items = list_all(client, contracts_url(org_a), auth(org_a, ADMIN), limit=2)
    assert [item["reference"] for item in items] == ["C-0", "C-1", "C-2"]


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00"])
def test_instants_at_the_edges_of_the_calendar_are_refused_not_failed(
    client, org_a: Org, auth, instant: str
):
    body = contract_body()
    body["effective_from"] = instant
    response = client.post(contracts_url(org_a), json=body, headers=auth(None, OPERATOR))
    assert response.status_code == 422
    assert "effective_from" in field_errors(response)
