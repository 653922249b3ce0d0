"""Entitlements: grant, read, list and revoke an account's products; only active accounts."""

from __future__ import annotations

import uuid

import pytest

from facito_admin.accounts.actions import AccountAction
from facito_admin.organisations.actions import OrganisationAction
from tests.api.accounts.helpers import account_url, list_all, new_actions, products_url
from tests.api.organisations.helpers import actions, audit_trail
from tests.conftest import Org
from tests.factories.accounts import grant, make_account

ADMIN = "Organisation.Admin"


def test_granting_a_product_returns_201_with_location(
    client, runtime, org_a: Org, org_b: Org, auth
):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    before = actions(runtime, org_a.id)
    response = client.post(
        products_url(org_a, account.id), json={"product_code": "microsoft-365"}, headers=admin
    )
    assert response.status_code == 201
    entitlement = response.get_json()
    assert entitlement["product_code"] == "microsoft-365"
    assert entitlement["account_id"] == str(account.id)
    assert entitlement["active"] is True
    assert entitlement["ended_at"] is None
    assert entitlement["end_reason"] is None
    assert response.headers["Location"].endswith(products_url(org_a, account.id, "microsoft-365"))
    assert client.get(response.headers["Location"], headers=admin).get_json() == entitlement
    assert new_actions(runtime, org_a, before) == [AccountAction.EntitlementGrant]
    event = audit_trail(runtime, org_a.id)[-1]
    assert event["target_id"] == str(account.id)
    assert event["details"]["product_code"] == "microsoft-365"
    other = auth(org_b, ADMIN)
    for org in (org_a, org_b):
        assert client.get(products_url(org, account.id), headers=other).status_code == 404
        assert (
            client.get(products_url(org, account.id, "microsoft-365"), headers=other).status_code
            == 404
        )
        assert (
            client.post(
                products_url(org, account.id), json={"product_code": "sql-server"}, headers=other
            ).status_code
            == 404
        )
        assert (
            client.delete(products_url(org, account.id, "microsoft-365"), headers=other).status_code
            == 404
        )
    assert actions(runtime, org_b.id) == [OrganisationAction.OrganisationCreate]


def test_a_product_is_granted_once_while_active(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "microsoft-azure")
    before = actions(runtime, org_a.id)
    again = client.post(
        products_url(org_a, account.id), json={"product_code": "microsoft-azure"}, headers=admin
    )
    assert again.status_code == 409
    assert again.get_json()["code"] == "already-exists"
    assert actions(runtime, org_a.id) == before


@pytest.mark.parametrize(
    "body",
    [
        {"product_code": "no-such-product"},
        {"product_code": "Microsoft-365"},
        {"product_code": ""},
        {"product_code": "a\x00"},
        {"product_code": 365},
        {},
        {"product_code": "microsoft-365", "until": "2030-01-01"},
    ],
)
def test_an_unknown_or_malformed_product_is_422(client, runtime, org_a: Org, auth, body):
    account = make_account(runtime, org_a.id)
    response = client.post(products_url(org_a, account.id), json=body, headers=auth(org_a, ADMIN))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("code", ["no-such-product", "x%00y", "UPPER", "a" * 300])
def test_revoking_or_reading_a_product_the_account_does_not_have_is_404(
    client, runtime, org_a: Org, auth, code
):
    account = make_account(runtime, org_a.id)
    admin = auth(org_a, ADMIN)
    assert client.delete(products_url(org_a, account.id, code), headers=admin).status_code == 404
    assert client.get(products_url(org_a, account.id, code), headers=admin).status_code == 404


def test_revoking_ends_the_period_and_keeps_it_as_history(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "data-science", "onboarding")
    before = actions(runtime, org_a.id)
    url = products_url(org_a, account.id, "data-science")
    assert client.delete(url, headers=admin).status_code == 204
    assert client.delete(url, headers=admin).status_code == 404
    assert client.get(url, headers=admin).status_code == 404
    assert new_actions(runtime, org_a, before) == [AccountAction.EntitlementRevoke]
    items = list_all(client, products_url(org_a, account.id), admin)
    assert [(i["product_code"], i["active"], i["end_reason"]) for i in items] == [
        ("data-science", False, "revoked"),
        ("onboarding", True, None),
    ]
    assert all(i["ended_at"] for i in items if not i["active"])
    active = list_all(client, products_url(org_a, account.id), admin, active="true")
    assert [i["product_code"] for i in active] == ["onboarding"]
    ended = list_all(client, products_url(org_a, account.id), admin, active="false")
    assert [i["product_code"] for i in ended] == ["data-science"]
    # Granted again later: a new period.
    regranted = client.post(
        products_url(org_a, account.id), json={"product_code": "data-science"}, headers=admin
    )
    assert regranted.status_code == 201


def test_entitlements_page_through_with_cursors(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    codes = ["windows-server", "sql-server", "visual-studio", "system-center", "dynamics-365"]
    grant(runtime, org_a.id, account.id, *codes)
    items = list_all(client, products_url(org_a, account.id), auth(org_a, ADMIN), limit=2)
    assert [i["product_code"] for i in items] == codes


@pytest.mark.parametrize("state", ["disabled", "deleted"])
def test_a_disabled_or_deleted_account_gets_no_products(client, runtime, org_a: Org, auth, state):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    if state == "disabled":
        client.post(account_url(org_a, account.id, "/disable"), headers=admin)
    else:
        tag = client.get(account_url(org_a, account.id), headers=admin).headers["ETag"]
        client.delete(account_url(org_a, account.id), headers=admin | {"If-Match": tag})
    before = actions(runtime, org_a.id)
    response = client.post(
        products_url(org_a, account.id), json={"product_code": "microsoft-365"}, headers=admin
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "account-not-active"
    assert actions(runtime, org_a.id) == before


def test_the_products_of_an_unknown_account_are_404(client, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    missing = uuid.uuid4()
    assert client.get(products_url(org_a, missing), headers=admin).status_code == 404
    response = client.post(
        products_url(org_a, missing), json={"product_code": "microsoft-365"}, headers=admin
    )
    assert response.status_code == 404
