"""Offboarding starts a return period: the organisation's callers read and export, change
nothing, and are refused once it is over (GDPR art. 28(3)(g))."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.runtime import Runtime
from tests.api.contracts.helpers import create_contract
from tests.api.offboarding.helpers import ADMIN, end_return_period, exports_url, offboard
from tests.conftest import Org
from tests.factories.accounts import make_account


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_offboarding_sets_a_return_period_of_the_statements_thirty_days(
    client: FlaskClient, org_a: Org, operator: dict[str, str]
):
    before = utcnow()
    offboarded = offboard(client, org_a, operator)
    until = _instant(offboarded["data_return_until"])
    assert before + timedelta(days=30) <= until <= utcnow() + timedelta(days=30)
    assert offboarded["offboarded_at"] is not None
    assert offboarded["data_return_basis"]["days"] == 30
    assert offboarded["data_deleted_at"] is None
    shown = client.get(f"/v1/organisations/{org_a.id}", headers=operator).get_json()
    assert shown["data_return_until"] == offboarded["data_return_until"]


def test_a_contract_sets_its_own_return_period_and_says_so(
    client: FlaskClient, org_a: Org, operator: dict[str, str]
):
    create_contract(
        client, org_a, operator, reference="FAC-RET-1", overrides={"offboarding.return_days": 10}
    )
    offboarded = offboard(client, org_a, operator)
    basis = offboarded["data_return_basis"]
    assert (basis["days"], basis["source"], basis["document"]) == (10, "contract", "FAC-RET-1")
    until = _instant(offboarded["data_return_until"])
    assert abs(until - (_instant(offboarded["offboarded_at"]) + timedelta(days=10))) < timedelta(
        seconds=1
    )


def test_during_the_return_period_the_admin_reads_and_exports_but_writes_nothing(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Any, operator: dict[str, str]
):
    account = make_account(runtime, org_a.id)
    admin = auth(org_a, ADMIN)
    offboard(client, org_a, operator)

    listed = client.get(f"/v1/organisations/{org_a.id}/accounts", headers=admin)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.get_json()["items"]] == [str(account.id)]
    assert (
        client.get(f"/v1/organisations/{org_a.id}/audit-events", headers=admin).status_code == 200
    )
    me = client.get("/v1/me", headers=admin).get_json()
    assert "org:accounts:write" not in me["permissions"]
    assert {"org:accounts:read", "org:exports:read", "org:exports:write"} <= set(me["permissions"])

    refused = client.post(
        f"/v1/organisations/{org_a.id}/accounts",
        json={"user_principal_name": "new@example.com", "display_name": "New"},
        headers=admin,
    )
    assert refused.status_code == 403
    assert "org:accounts:write" in refused.get_json()["missing_permissions"]
    held = client.post(f"/v1/organisations/{org_a.id}/legal-holds", json={}, headers=admin)
    assert held.status_code == 403
    assert client.post(exports_url(org_a), headers=admin).status_code == 202


def test_after_the_return_period_the_organisations_callers_are_refused(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Any, operator
):
    offboard(client, org_a, operator)
    end_return_period(runtime, org_a)
    refused = client.get(f"/v1/organisations/{org_a.id}/accounts", headers=auth(org_a, ADMIN))
    assert refused.status_code == 401
    assert refused.get_json()["reason"] == "organisation is not active"
    # The other organisation is untouched.
    other = client.get(f"/v1/organisations/{org_b.id}/accounts", headers=auth(org_b, ADMIN))
    assert other.status_code == 200


def test_a_suspended_organisation_has_no_return_period(
    client: FlaskClient, org_a: Org, auth: Any, operator: dict[str, str]
):
    client.post(f"/v1/organisations/{org_a.id}/suspend", json={}, headers=operator)
    refused = client.get(f"/v1/organisations/{org_a.id}/accounts", headers=auth(org_a, ADMIN))
    assert refused.status_code == 401
