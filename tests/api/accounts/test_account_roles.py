"""Who may do what: admins and integrations write, readers read, employees nothing, and Facito
operators (without a support grant) do not find the accounts at all."""

from __future__ import annotations

import pytest

from tests.api.accounts.helpers import account_url, accounts_url, products_url
from tests.api.organisations.helpers import actions
from tests.conftest import Org
from tests.factories.accounts import grant, make_account


def _reads(org: Org, account_id) -> list[tuple[str, str]]:
    return [
        ("GET", accounts_url(org)),
        ("GET", account_url(org, account_id)),
        ("GET", products_url(org, account_id)),
        ("GET", products_url(org, account_id, "microsoft-365")),
    ]


def _writes(org: Org, account_id) -> list[tuple[str, str, dict | None]]:
    return [
        ("POST", accounts_url(org), {"user_principal_name": "n@example.com", "display_name": "N"}),
        ("PATCH", account_url(org, account_id), {"department": "X"}),
        ("POST", account_url(org, account_id, "/disable"), None),
        ("POST", account_url(org, account_id, "/enable"), None),
        ("POST", account_url(org, account_id, "/restore"), None),
        ("DELETE", account_url(org, account_id), None),
        ("POST", products_url(org, account_id), {"product_code": "sql-server"}),
        ("DELETE", products_url(org, account_id, "microsoft-365"), None),
    ]


@pytest.fixture
def account(runtime, org_a: Org):
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "microsoft-365")
    return account


@pytest.mark.parametrize(
    "roles",
    [("Organisation.Reader",), ("Facito.Operator",), ("Privacy.Officer",), ()],
)
def test_roles_without_write_permission_cannot_change_accounts(
    client, runtime, org_a: Org, auth, account, roles
):
    staff = roles and roles[0].startswith("Facito.")
    headers = auth(None if staff else org_a, *roles) | {"If-Match": "*"}
    before = actions(runtime, org_a.id)
    expected = (404, "not-found") if staff else (403, "forbidden")
    for method, url, body in _writes(org_a, account.id):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == expected[0], (method, url, response.get_json())
        assert response.get_json()["code"] == expected[1]
    assert actions(runtime, org_a.id) == before


@pytest.mark.parametrize(
    ("roles", "status"),
    [
        (("Organisation.Admin",), 200),
        (("Organisation.Reader",), 200),
        # Operators need a support grant the organisation approved (tests/api/support_access).
        (("Facito.Operator",), 404),
        # The privacy officer answers for the accounts' data (holds, guardians, requests).
        (("Privacy.Officer",), 200),
        # An employee sees their own account at /v1/me, nobody's here.
        ((), 403),
    ],
)
def test_who_reads_accounts_and_their_products(client, org_a: Org, auth, account, roles, status):
    staff = roles and roles[0].startswith("Facito.")
    headers = auth(None if staff else org_a, *roles)
    for method, url in _reads(org_a, account.id):
        response = client.open(url, method=method, headers=headers)
        assert response.status_code == status, (url, response.get_json())


def test_an_integration_app_provisions_accounts_and_products(client, org_a: Org, auth):
    app = auth(org_a, "Integration.ReadWrite", app=True)
    created = client.post(
        accounts_url(org_a),
        json={"user_principal_name": "svc@example.com", "display_name": "Svc"},
        headers=app,
    )
    assert created.status_code == 201
    account_id = created.get_json()["id"]
    granted = client.post(
        products_url(org_a, account_id), json={"product_code": "sql-server"}, headers=app
    )
    assert granted.status_code == 201
    assert client.post(account_url(org_a, account_id, "/disable"), headers=app).status_code == 200
    assert client.get(accounts_url(org_a), headers=app).status_code == 200


def test_an_unauthenticated_caller_gets_401(client, org_a: Org, account):
    assert client.get(accounts_url(org_a)).status_code == 401
    assert client.get(account_url(org_a, account.id)).status_code == 401
