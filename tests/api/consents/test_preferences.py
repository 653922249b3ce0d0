"""Preferences of an account: defaults from the effective policy, changes kept as history."""

from __future__ import annotations

from facito_admin.policies.statements.service import SEED_STATEMENT_ID
from tests.api.accounts.helpers import account_url, etag, list_all, new_actions
from tests.api.consents.helpers import (
    ADMIN,
    INTEGRATION,
    OPERATOR,
    PRIVACY,
    READER,
    preferences_url,
    setting,
)
from tests.api.contracts.helpers import create_contract
from tests.api.organisations.helpers import actions
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.consents import change_preferences, preference_rows


def test_an_account_starts_with_the_defaults_of_the_statement_in_force(
    client, runtime, org_a: Org, auth
):
    account = make_account(runtime, org_a.id)
    response = client.get(preferences_url(org_a, account.id), headers=auth(org_a, READER))
    assert response.status_code == 200
    state = response.get_json()
    assert state["preferences"] == {
        # The 2019 statement names no default channel: nothing promotional until chosen.
        "channels": {"email": False, "sms": False, "phone": False, "post": False},
        # An opt-out where the statement allows interest-based ads; sharing is an opt-in.
        "interest_based_advertising": True,
        "partner_sharing": False,
        "cookies": {
            "necessary": True,
            "functional": False,
            "analytics": False,
            "advertising": False,
        },
    }
    assert {item["source"] for item in state["settings"]} == {"default"}
    assert {item["changed_at"] for item in state["settings"]} == {None}
    assert state["statement_version"]["id"] == str(SEED_STATEMENT_ID)
    assert state["last_changed_at"] is None


def test_a_change_writes_one_history_row_with_the_statement_version_and_one_audit_event(
    client, runtime, org_a: Org, auth
):
    account = make_account(runtime, org_a.id)
    before = actions(runtime, org_a.id)
    response = client.patch(
        preferences_url(org_a, account.id),
        json={"channels": {"email": True}, "cookies": {"analytics": True}, "partner_sharing": True},
        headers=auth(org_a, ADMIN),
    )
    assert response.status_code == 200, response.get_json()
    state = response.get_json()
    assert state["preferences"]["channels"]["email"] is True
    assert state["preferences"]["cookies"]["analytics"] is True
    assert state["preferences"]["partner_sharing"] is True
    email = setting(state, "channels.email")
    assert email["source"] == "choice"
    assert email["changed_at"] == state["last_changed_at"]
    assert setting(state, "channels.sms")["source"] == "default"
    assert new_actions(runtime, org_a, before) == ["org:preferences:change"]

    history = client.get(
        preferences_url(org_a, account.id, "/history"), headers=auth(org_a, READER)
    )
    [change] = history.get_json()["items"]
    assert change["changes"] == {
        "channels.email": True,
        "partner_sharing": True,
        "cookies.analytics": True,
    }
    assert change["actor_kind"] == "admin"
    assert change["source"] == "admin_api"
    assert change["statement_version_id"] == str(SEED_STATEMENT_ID)
    assert change["statement_version_label"] == state["statement_version"]["label"]


def test_a_change_to_the_current_values_writes_nothing(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    change_preferences(runtime, org_a.id, account.id, {"channels": {"sms": True}})
    before = actions(runtime, org_a.id)
    response = client.patch(
        preferences_url(org_a, account.id),
        json={"channels": {"sms": True, "post": False}, "cookies": {"necessary": True}},
        headers=auth(org_a, ADMIN),
    )
    assert response.status_code == 200
    assert response.get_json()["preferences"]["channels"]["sms"] is True
    assert len(preference_rows(runtime, org_a.id)) == 1
    assert actions(runtime, org_a.id) == before


def test_necessary_cookies_cannot_be_refused(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    response = client.patch(
        preferences_url(org_a, account.id),
        json={"cookies": {"necessary": False}},
        headers=auth(org_a, ADMIN),
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "cookies.necessary"


def test_an_empty_or_unknown_setting_is_422(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    url, admin = preferences_url(org_a, account.id), auth(org_a, ADMIN)
    assert client.patch(url, json={}, headers=admin).status_code == 422
    assert client.patch(url, json={"channels": {"fax": True}}, headers=admin).status_code == 422
    assert client.patch(url, json={"partner_sharing": "yes"}, headers=admin).status_code == 422


def test_partner_sharing_is_refused_where_the_contract_forbids_it(
    client, runtime, org_a: Org, org_b: Org, auth
):
    create_contract(
        client, org_a, auth(None, OPERATOR), overrides={"advertising.partner_sharing": False}
    )
    account = make_account(runtime, org_a.id)
    before = actions(runtime, org_a.id)
    response = client.patch(
        preferences_url(org_a, account.id),
        json={"partner_sharing": True},
        headers=auth(org_a, ADMIN),
    )
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["code"] == "preference-not-allowed-by-policy"
    assert problem["setting"] == "partner_sharing"
    assert problem["policy_key"] == "advertising.partner_sharing"
    assert actions(runtime, org_a.id) == before
    # Organisation B has no such contract: there the statement allows it.
    other = make_account(runtime, org_b.id)
    allowed = client.patch(
        preferences_url(org_b, other.id), json={"partner_sharing": True}, headers=auth(org_b, ADMIN)
    )
    assert allowed.status_code == 200


def test_a_choice_the_policy_later_forbids_shows_off_with_the_policy_as_source(
    client, runtime, org_a: Org, auth
):
    account = make_account(runtime, org_a.id)
    change_preferences(runtime, org_a.id, account.id, {"partner_sharing": True})
    create_contract(
        client, org_a, auth(None, OPERATOR), overrides={"advertising.partner_sharing": False}
    )
    url, admin = preferences_url(org_a, account.id), auth(org_a, ADMIN)
    state = client.get(url, headers=admin).get_json()
    assert state["preferences"]["partner_sharing"] is False
    shared = setting(state, "partner_sharing")
    assert shared["source"] == "policy"
    assert shared["changed_at"] is not None
    # Opting out is still recorded: the old opt-in must not come back with a later policy.
    opted_out = client.patch(url, json={"partner_sharing": False}, headers=admin)
    assert opted_out.status_code == 200
    assert setting(opted_out.get_json(), "partner_sharing")["source"] == "choice"
    assert len(preference_rows(runtime, org_a.id)) == 2


def test_without_interest_based_advertising_in_the_policy_it_is_off_and_cannot_be_chosen(
    client, runtime, org_a: Org, auth
):
    create_contract(
        client, org_a, auth(None, OPERATOR), overrides={"advertising.interest_based": False}
    )
    account = make_account(runtime, org_a.id)
    url, admin = preferences_url(org_a, account.id), auth(org_a, ADMIN)
    state = client.get(url, headers=admin).get_json()
    assert state["preferences"]["interest_based_advertising"] is False
    refused = client.patch(url, json={"interest_based_advertising": True}, headers=admin)
    assert refused.status_code == 409
    assert refused.get_json()["setting"] == "interest_based_advertising"


def test_the_contracts_default_channels_apply_until_the_subject_chooses(
    client, runtime, org_a: Org, auth
):
    create_contract(
        client,
        org_a,
        auth(None, OPERATOR),
        overrides={"marketing.default_channels": ["email", "post"]},
    )
    account = make_account(runtime, org_a.id)
    url, admin = preferences_url(org_a, account.id), auth(org_a, ADMIN)
    channels = client.get(url, headers=admin).get_json()["preferences"]["channels"]
    assert channels == {"email": True, "sms": False, "phone": False, "post": True}
    after = client.patch(url, json={"channels": {"email": False}}, headers=admin).get_json()
    assert after["preferences"]["channels"]["email"] is False
    assert setting(after, "channels.post")["source"] == "default"


def test_an_integration_changes_preferences_as_an_integration(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    response = client.patch(
        preferences_url(org_a, account.id),
        json={"cookies": {"functional": True}},
        headers=auth(org_a, INTEGRATION, app=True),
    )
    assert response.status_code == 200
    [row] = preference_rows(runtime, org_a.id)
    assert (row.actor_kind, row.source) == ("integration", "integration")


def test_readers_read_and_privacy_officers_change_preferences(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    url = preferences_url(org_a, account.id)
    body = {"channels": {"phone": True}}
    refused = client.patch(url, json=body, headers=auth(org_a, READER))
    assert refused.status_code == 403
    assert client.patch(url, json=body, headers=auth(org_a, PRIVACY)).status_code == 200


def test_the_history_is_newest_first_in_keyset_pages(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    for value in (True, False, True):
        change_preferences(runtime, org_a.id, account.id, {"channels": {"email": value}})
    items = list_all(
        client, preferences_url(org_a, account.id, "/history"), auth(org_a, READER), limit=1
    )
    assert [item["changes"] for item in items] == [
        {"channels.email": True},
        {"channels.email": False},
        {"channels.email": True},
    ]
    assert items[0]["changed_at"] >= items[-1]["changed_at"]


def test_a_deleted_accounts_preferences_do_not_change(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    admin = auth(org_a, ADMIN)
    tag = etag(client, org_a, str(account.id), admin)
    client.delete(account_url(org_a, account.id), headers=admin | {"If-Match": tag})
    response = client.patch(
        preferences_url(org_a, account.id), json={"partner_sharing": True}, headers=admin
    )
    assert response.status_code == 409
    assert client.get(preferences_url(org_a, account.id), headers=admin).status_code == 200


def test_another_organisation_gets_404_on_every_preference_route(
    client, runtime, org_a: Org, org_b: Org, auth
):
    account = make_account(runtime, org_a.id)
    change_preferences(runtime, org_a.id, account.id, {"channels": {"email": True}})
    outsider = auth(org_b, ADMIN)
    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"channels": {"email": False}}),
        ("GET", "/history", None),
    ]:
        response = client.open(
            preferences_url(org_a, account.id, suffix), method=method, json=body, headers=outsider
        )
        assert response.status_code == 404, (method, suffix)
    # Org B's own path with org A's account id: no such account there.
    missing = client.get(preferences_url(org_b, account.id), headers=outsider)
    assert missing.status_code == 404
    assert len(preference_rows(runtime, org_a.id)) == 1
