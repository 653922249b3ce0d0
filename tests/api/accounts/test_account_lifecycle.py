"""Disable, enable, delete and restore: product access follows the account at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from facito_admin.accounts.actions import AccountAction
from facito_admin.db.base import utcnow
from tests.api.accounts.helpers import (
    account_url,
    create,
    etag,
    new_actions,
    products_url,
)
from tests.api.organisations.helpers import actions, audit_trail
from tests.conftest import Org
from tests.factories.accounts import account_fields, entitlement_rows, grant, make_account

ADMIN = "Organisation.Admin"


def _products(client, org: Org, account_id, headers) -> dict[str, list[tuple]]:
    """Product code → its periods as (active, end_reason), oldest first."""
    items = client.get(products_url(org, account_id), headers=headers).get_json()["items"]
    periods: dict[str, list[tuple]] = {}
    for item in items:
        periods.setdefault(item["product_code"], []).append((item["active"], item["end_reason"]))
    return periods


def _delete(client, org: Org, account_id, headers):
    tag = etag(client, org, str(account_id), headers)
    return client.delete(account_url(org, account_id), headers=headers | {"If-Match": tag})


def test_disabling_ends_product_access_and_enabling_gives_it_back(
    client, runtime, org_a: Org, org_b: Org, auth
):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "microsoft-365", "website-hosting")
    before = actions(runtime, org_a.id)

    disabled = client.post(account_url(org_a, account.id, "/disable"), headers=admin)
    assert disabled.status_code == 200
    assert disabled.get_json()["status"] == "disabled"
    assert disabled.headers["ETag"]
    assert _products(client, org_a, account.id, admin) == {
        "microsoft-365": [(False, "account_disabled")],
        "website-hosting": [(False, "account_disabled")],
    }
    assert audit_trail(runtime, org_a.id)[-1]["details"] == {
        "ended_entitlements": ["microsoft-365", "website-hosting"]
    }

    enabled = client.post(account_url(org_a, account.id, "/enable"), headers=admin)
    assert enabled.status_code == 200
    assert enabled.get_json()["status"] == "active"
    assert _products(client, org_a, account.id, admin) == {
        "microsoft-365": [(False, "account_disabled"), (True, None)],
        "website-hosting": [(False, "account_disabled"), (True, None)],
    }
    assert new_actions(runtime, org_a, before) == [
        AccountAction.AccountDisable,
        AccountAction.AccountEnable,
    ]
    other = auth(org_b, ADMIN)
    assert client.post(account_url(org_b, account.id, "/disable"), headers=other).status_code == 404


def test_a_revoked_product_does_not_come_back_with_enable(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "microsoft-365", "microsoft-azure")
    assert (
        client.delete(products_url(org_a, account.id, "microsoft-azure"), headers=admin).status_code
        == 204
    )
    client.post(account_url(org_a, account.id, "/disable"), headers=admin)
    client.post(account_url(org_a, account.id, "/enable"), headers=admin)
    assert _products(client, org_a, account.id, admin) == {
        "microsoft-365": [(False, "account_disabled"), (True, None)],
        "microsoft-azure": [(False, "revoked")],
    }


def test_repeated_disable_and_enable_keep_one_open_period_per_product(
    client, runtime, org_a: Org, auth
):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "dynamics-365")
    for _ in range(3):
        client.post(account_url(org_a, account.id, "/disable"), headers=admin)
        client.post(account_url(org_a, account.id, "/enable"), headers=admin)
    periods = _products(client, org_a, account.id, admin)["dynamics-365"]
    assert periods == [(False, "account_disabled")] * 3 + [(True, None)]


@pytest.mark.parametrize(
    ("action", "status"),
    [("/enable", "active"), ("/restore", "active"), ("/disable", "disabled")],
)
def test_an_action_from_the_wrong_state_is_409_and_changes_nothing(
    client, runtime, org_a: Org, auth, action, status
):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    if status == "disabled":
        client.post(account_url(org_a, account.id, "/disable"), headers=admin)
    before = actions(runtime, org_a.id)
    response = client.post(account_url(org_a, account.id, action), headers=admin)
    assert response.status_code == 409
    assert response.get_json()["code"] == "invalid-state"
    assert actions(runtime, org_a.id) == before


def test_deleting_needs_if_match_and_ends_product_access(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "sql-server")
    url = account_url(org_a, account.id)
    assert client.delete(url, headers=admin).status_code == 428
    assert client.delete(url, headers=admin | {"If-Match": '"stale"'}).status_code == 412
    before = actions(runtime, org_a.id)
    started = utcnow()
    response = _delete(client, org_a, account.id, admin)
    assert response.status_code == 200
    deleted = response.get_json()
    assert deleted["status"] == "deleted"
    purge_after = deleted["purge_after"]
    assert purge_after.startswith(str((started + timedelta(days=30)).date()))
    assert client.get(url, headers=admin).get_json()["status"] == "deleted"
    assert _products(client, org_a, account.id, admin) == {
        "sql-server": [(False, "account_deleted")]
    }
    assert new_actions(runtime, org_a, before) == [AccountAction.AccountDelete]
    again = client.delete(url, headers=admin | {"If-Match": response.headers["ETag"]})
    assert again.status_code == 409
    patch = client.patch(
        url, json={"department": "X"}, headers=admin | {"If-Match": response.headers["ETag"]}
    )
    assert patch.status_code == 409
    assert client.post(url + "/enable", headers=admin).status_code == 409
    assert client.post(url + "/disable", headers=admin).status_code == 409


def test_restoring_inside_the_grace_period_brings_back_status_and_products(
    client, runtime, org_a: Org, auth
):
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "visual-studio")
    _delete(client, org_a, account.id, auth(org_a, ADMIN))
    with time_machine.travel(utcnow() + timedelta(days=29, hours=23), tick=False):
        admin = auth(org_a, ADMIN)
        before = actions(runtime, org_a.id)
        response = client.post(account_url(org_a, account.id, "/restore"), headers=admin)
        assert response.status_code == 200
        body = response.get_json()
        assert body["status"] == "active"
        assert body["deleted_at"] is None
        assert body["purge_after"] is None
        assert _products(client, org_a, account.id, admin) == {
            "visual-studio": [(False, "account_deleted"), (True, None)]
        }
        assert new_actions(runtime, org_a, before) == [AccountAction.AccountRestore]


def test_a_disabled_account_is_restored_disabled_and_enable_brings_its_products_back(
    client, runtime, org_a: Org, auth
):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "onboarding")
    client.post(account_url(org_a, account.id, "/disable"), headers=admin)
    _delete(client, org_a, account.id, admin)
    restored = client.post(account_url(org_a, account.id, "/restore"), headers=admin)
    assert restored.get_json()["status"] == "disabled"
    assert [e.ended_at is None for e in entitlement_rows(runtime, org_a.id, account.id)] == [False]
    client.post(account_url(org_a, account.id, "/enable"), headers=admin)
    assert _products(client, org_a, account.id, admin) == {
        "onboarding": [(False, "account_disabled"), (True, None)]
    }


def test_restoring_after_the_grace_period_is_409(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    _delete(client, org_a, account.id, auth(org_a, ADMIN))
    with time_machine.travel(utcnow() + timedelta(days=30, seconds=1), tick=False):
        admin = auth(org_a, ADMIN)
        before = actions(runtime, org_a.id)
        response = client.post(account_url(org_a, account.id, "/restore"), headers=admin)
        assert response.status_code == 409
        assert response.get_json()["code"] == "grace-period-over"
        assert actions(runtime, org_a.id) == before


def test_restoring_is_refused_when_another_account_took_the_upn_meanwhile(
    client, runtime, org_a: Org, auth
):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id, "1")
    _delete(client, org_a, account.id, admin)
    create(client, org_a, admin, **account_fields("1", email=None))
    response = client.post(account_url(org_a, account.id, "/restore"), headers=admin)
    assert response.status_code == 409
    assert response.get_json()["field"] == "user_principal_name"
    assert client.get(account_url(org_a, account.id), headers=admin).get_json()["status"] == (
        "deleted"
    )


def test_an_account_can_be_created_disabled(client, org_a: Org, auth):
    account = create(
        client,
        org_a,
        auth(org_a, ADMIN),
        user_principal_name="later@example.com",
        display_name="Later",
        status="disabled",
    )
    assert account["status"] == "disabled"
    products = client.post(
        products_url(org_a, account["id"]),
        json={"product_code": "microsoft-365"},
        headers=auth(org_a, ADMIN),
    )
    assert products.status_code == 409
