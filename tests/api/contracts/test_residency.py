"""Residency: the organisation's regions must satisfy its effective policy; a contract that
makes them invalid is recorded, and the organisation shows and reports the problem."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from facito_admin.db.base import utcnow
from facito_admin.policies.actions import PolicyAction
from tests.api.contracts.helpers import ADMIN, OPERATOR, create_contract, field_errors
from tests.api.organisations.helpers import audit_trail
from tests.conftest import Org

EEA_ONLY = {"residency.eea_only": True}


def _organisation_url(org: Org) -> str:
    return f"/v1/organisations/{org.id}"


def _move(client, org: Org, operator: dict[str, str], **regions: str) -> Any:
    tag = client.get(_organisation_url(org), headers=operator).headers["ETag"]
    return client.patch(_organisation_url(org), json=regions, headers=operator | {"If-Match": tag})


def test_an_organisation_within_its_policy_reads_as_valid(client, org_a: Org, auth):
    body = client.get(_organisation_url(org_a), headers=auth(org_a, ADMIN)).get_json()
    assert body["residency_status"] == "valid"
    assert body["residency_problems"] == []


def test_a_region_outside_an_eea_only_contract_is_refused(client, runtime, org_a, org_b, auth):
    operator = auth(None, OPERATOR)
    contract, _ = create_contract(client, org_a, operator, overrides=EEA_ONLY)
    response = _move(client, org_a, operator, backup_region="azure-us")
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "residency-not-allowed"
    message = field_errors(response)["backup_region"]
    assert "outside the EEA" in message
    assert contract["reference"] in message
    # An EEA region is fine, and B (without that contract) may go where it likes.
    assert _move(client, org_a, operator, backup_region="azure-fr").status_code == 200
    assert _move(client, org_b, operator, backup_region="azure-us").status_code == 200


def test_a_contract_that_makes_the_current_residency_invalid_is_recorded_and_reported(
    client, runtime, org_a: Org, auth
):
    operator = auth(None, OPERATOR)
    assert _move(client, org_a, operator, backup_region="azure-us").status_code == 200
    contract, _ = create_contract(client, org_a, operator, overrides=EEA_ONLY)

    body = client.get(_organisation_url(org_a), headers=auth(org_a, ADMIN)).get_json()
    assert body["residency_status"] == "invalid"
    [problem] = body["residency_problems"]
    assert problem["field"] == "backup_region"
    assert problem["region"] == "azure-us"
    assert problem["rule"] == "residency.eea_only"
    assert problem["source"] == "contract"
    assert problem["document"] == contract["reference"]
    assert problem["document_id"] == contract["id"]

    trail = audit_trail(runtime, org_a.id)
    assert [e["action"] for e in trail[-2:]] == [
        PolicyAction.ContractCreate,
        PolicyAction.ResidencyInvalid,
    ]
    assert trail[-1]["details"]["status"] == "invalid"
    assert trail[-1]["details"]["problems"][0]["region"] == "azure-us"

    # Other edits stay possible; moving the backup into the EEA makes the residency valid.
    tag = client.get(_organisation_url(org_a), headers=operator).headers["ETag"]
    renamed = client.patch(
        _organisation_url(org_a), json={"name": "A B.V."}, headers=operator | {"If-Match": tag}
    )
    assert renamed.status_code == 200
    moved = _move(client, org_a, operator, backup_region="azure-ie")
    assert moved.status_code == 200
    assert moved.get_json()["residency_status"] == "valid"


def test_a_contract_starting_later_shows_the_residency_becoming_invalid(
    client, runtime, org_a: Org, auth
):
    operator = auth(None, OPERATOR)
    assert _move(client, org_a, operator, primary_region="azure-us").status_code == 200
    start = utcnow() + timedelta(days=30)
    create_contract(
        client,
        org_a,
        operator,
        start=start,
        overrides={"subprocessors.allowed": ["transip"]},
    )
    body = client.get(_organisation_url(org_a), headers=operator).get_json()
    assert body["residency_status"] == "becomes_invalid"
    assert {(p["field"], p["rule"]) for p in body["residency_problems"]} == {
        ("primary_region", "subprocessors.allowed"),
        ("backup_region", "subprocessors.allowed"),
    }
    assert audit_trail(runtime, org_a.id)[-1]["details"]["status"] == "becomes_invalid"
    # Until then the regions may still move, but not to where the coming contract forbids.
    refused = _move(client, org_a, operator, primary_region="azure-nl")
    assert refused.status_code == 422
    assert _move(client, org_a, operator, primary_region="transip-nl-delft").status_code == 200
