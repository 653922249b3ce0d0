"""GET /v1/me: every caller's identity, and for a person their own account and products."""

from __future__ import annotations

import uuid

from tests.api.consents.helpers import OPERATOR
from tests.conftest import Org
from tests.factories.accounts import grant, make_account


def test_an_employee_sees_their_own_account_and_current_products(client, runtime, org_a: Org, auth):
    oid = str(uuid.uuid4())
    account = make_account(runtime, org_a.id, entra_oid=oid)
    grant(runtime, org_a.id, account.id, "website-hosting")
    response = client.get("/v1/me", headers=auth(org_a, oid=oid))
    assert response.status_code == 200
    me = response.get_json()
    assert me["kind"] == "employee"
    assert "self:preferences:write" in me["permissions"]
    assert me["account"]["id"] == str(account.id)
    assert me["account"]["user_principal_name"] == account.user_principal_name
    assert me["account"]["email"] == account.email
    assert me["account"]["status"] == "active"
    assert [p["product_code"] for p in me["products"]] == ["website-hosting"]


def test_a_disabled_account_shows_without_products(client, runtime, org_a: Org, auth):
    oid = str(uuid.uuid4())
    account = make_account(runtime, org_a.id, entra_oid=oid)
    grant(runtime, org_a.id, account.id, "website-hosting")
    admin = auth(org_a, "Organisation.Admin")
    client.post(f"/v1/organisations/{org_a.id}/accounts/{account.id}/disable", headers=admin)
    me = client.get("/v1/me", headers=auth(org_a, oid=oid)).get_json()
    assert me["account"]["status"] == "disabled"
    assert me["products"] == []


def test_apps_staff_and_people_without_an_account_still_get_their_identity(
    client, runtime, org_a: Org, org_b: Org, auth
):
    oid = str(uuid.uuid4())
    make_account(runtime, org_a.id, entra_oid=oid)
    callers = {
        "app": auth(org_a, "Integration.ReadWrite", app=True),
        "operator": auth(None, OPERATOR),
        "admin without account": auth(org_a, "Organisation.Admin"),
        # The same object id in another organisation is another person.
        "other organisation": auth(org_b, oid=oid),
    }
    for who, headers in callers.items():
        response = client.get("/v1/me", headers=headers)
        assert response.status_code == 200, who
        assert response.get_json()["account"] is None, who
        assert response.get_json()["products"] == [], who
