"""The employee's own preferences under /v1/me: theirs to read and change, nobody else's."""

from __future__ import annotations

import uuid

from tests.api.accounts.helpers import accounts_url, new_actions
from tests.api.consents.helpers import OPERATOR, preferences_url
from tests.api.organisations.helpers import actions
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.consents import change_preferences, preference_rows

OWN = "/v1/me/preferences"


def _employee(runtime, org: Org, auth, n: int = 1):
    oid = str(uuid.uuid4())
    account = make_account(runtime, org.id, n, entra_oid=oid)
    return account, auth(org, oid=oid)


def test_an_employee_reads_and_changes_their_own_preferences_as_the_subject(
    client, runtime, org_a: Org, auth
):
    account, me = _employee(runtime, org_a, auth)
    state = client.get(OWN, headers=me)
    assert state.status_code == 200
    assert state.get_json()["account_id"] == str(account.id)
    before = actions(runtime, org_a.id)
    changed = client.patch(
        OWN, json={"channels": {"post": True}, "interest_based_advertising": False}, headers=me
    )
    assert changed.status_code == 200, changed.get_json()
    preferences = changed.get_json()["preferences"]
    assert preferences["channels"]["post"] is True
    assert preferences["interest_based_advertising"] is False
    assert new_actions(runtime, org_a, before) == ["org:preferences:change"]
    [row] = preference_rows(runtime, org_a.id)
    assert (row.actor_kind, row.source) == ("subject", "self_service")
    assert row.account_id == account.id
    assert row.statement_version_label
    history = client.get(OWN + "/history", headers=me).get_json()["items"]
    assert [item["changes"] for item in history] == [
        {"channels.post": True, "interest_based_advertising": False}
    ]


def test_a_change_an_administrator_made_shows_in_the_employees_own_history(
    client, runtime, org_a: Org, auth
):
    account, me = _employee(runtime, org_a, auth)
    change_preferences(runtime, org_a.id, account.id, {"cookies": {"analytics": True}})
    [item] = client.get(OWN + "/history", headers=me).get_json()["items"]
    assert item["actor_kind"] == "admin"
    assert client.get(OWN, headers=me).get_json()["preferences"]["cookies"]["analytics"] is True


def test_an_unchanged_own_preference_writes_nothing(client, runtime, org_a: Org, auth):
    _, me = _employee(runtime, org_a, auth)
    before = actions(runtime, org_a.id)
    response = client.patch(OWN, json={"partner_sharing": False}, headers=me)
    assert response.status_code == 200
    assert actions(runtime, org_a.id) == before
    assert preference_rows(runtime, org_a.id) == []


def test_the_policy_refusal_applies_to_the_employee_too(client, runtime, org_a: Org, auth):
    from tests.api.contracts.helpers import create_contract

    create_contract(
        client, org_a, auth(None, OPERATOR), overrides={"advertising.partner_sharing": False}
    )
    _, me = _employee(runtime, org_a, auth)
    response = client.patch(OWN, json={"partner_sharing": True}, headers=me)
    assert response.status_code == 409
    assert response.get_json()["code"] == "preference-not-allowed-by-policy"


def test_an_employee_gets_403_on_organisation_routes_and_404_on_another_organisation(
    client, runtime, org_a: Org, org_b: Org, auth
):
    account, me = _employee(runtime, org_a, auth)
    colleague = make_account(runtime, org_a.id, 2)
    stranger = make_account(runtime, org_b.id, 3)
    assert client.get(accounts_url(org_a), headers=me).status_code == 403
    for account_id in (account.id, colleague.id):
        url = preferences_url(org_a, account_id)
        assert client.get(url, headers=me).status_code == 403
        assert client.patch(url, json={"partner_sharing": True}, headers=me).status_code == 403
        assert client.get(url + "/history", headers=me).status_code == 403
    url = preferences_url(org_b, stranger.id)
    assert client.get(url, headers=me).status_code == 404
    assert client.patch(url, json={"partner_sharing": True}, headers=me).status_code == 404
    assert client.get(f"/v1/organisations/{org_b.id}/accounts", headers=me).status_code == 404
    assert preference_rows(runtime, org_a.id) == []
    assert preference_rows(runtime, org_b.id) == []


def test_a_person_without_an_account_gets_404_and_apps_and_staff_get_403(
    client, runtime, org_a: Org, auth
):
    make_account(runtime, org_a.id)
    nobody = auth(org_a)
    assert client.get(OWN, headers=nobody).status_code == 404
    assert client.patch(OWN, json={"partner_sharing": True}, headers=nobody).status_code == 404
    assert client.get(OWN + "/history", headers=nobody).status_code == 404
    app = auth(org_a, "Integration.ReadWrite", app=True)
    assert client.get(OWN, headers=app).status_code == 403
    assert client.get(OWN, headers=auth(None, OPERATOR)).status_code == 403


def test_an_administrator_with_an_account_has_own_preferences_too(
    client, runtime, org_a: Org, auth
):
    oid = str(uuid.uuid4())
    account = make_account(runtime, org_a.id, entra_oid=oid)
    admin = auth(org_a, "Organisation.Admin", oid=oid)
    response = client.patch(OWN, json={"channels": {"email": True}}, headers=admin)
    assert response.status_code == 200
    [row] = preference_rows(runtime, org_a.id)
    assert (row.account_id, row.actor_kind) == (account.id, "subject")


def test_a_deleted_own_account_is_not_found(client, runtime, org_a: Org, auth):
    from tests.api.accounts.helpers import account_url, etag

    account, me = _employee(runtime, org_a, auth)
    admin = auth(org_a, "Organisation.Admin")
    tag = etag(client, org_a, str(account.id), admin)
    client.delete(account_url(org_a, account.id), headers=admin | {"If-Match": tag})
    assert client.get(OWN, headers=me).status_code == 404
