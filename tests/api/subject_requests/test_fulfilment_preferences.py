"""Objection (art. 21) and consent withdrawal (art. 7(3)) through the API: the preferences are
opted out at once by a job, and the preference history says which request did it. An
objection to direct marketing is absolute; another organisation's people are not touched."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from tests.api.subject_requests.helpers import (
    ADMIN,
    Auth,
    employee,
    file_own,
    fulfil,
    queue_url,
    read_request,
)
from tests.conftest import Org

OPT_IN = {
    "channels": {"email": True, "sms": True},
    "partner_sharing": True,
    "cookies": {"analytics": True, "advertising": True},
}
MARKETING = {
    "channels": {"email": False, "sms": False, "phone": False, "post": False},
    "interest_based_advertising": False,
    "partner_sharing": False,
}


def _opted_in(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.patch("/v1/me/preferences", json=OPT_IN, headers=headers)
    assert response.status_code == 200, response.get_json()


def _mine(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    return dict(client.get("/v1/me/preferences", headers=headers).get_json()["preferences"])


def test_an_objection_to_direct_marketing_turns_every_marketing_setting_off_at_once(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    _, foreigner = employee(runtime, org_b, auth)
    _opted_in(client, me)
    _opted_in(client, foreigner)
    # Naming one channel objects to direct marketing: every channel and advertising go.
    request = file_own(client, me, "objection", scope={"preferences": ["channels.email"]})
    admin = auth(org_a, ADMIN)
    other = client.post(queue_url(org_b, f"/{request['id']}/fulfil"), headers=auth(org_b, ADMIN))
    assert other.status_code == 404

    job = fulfil(client, runtime, org_a, admin, request["id"])
    assert job["state"] == "succeeded", job
    mine = _mine(client, me)
    assert {k: mine[k] for k in MARKETING} == MARKETING
    assert mine["cookies"] == {
        "necessary": True,
        "functional": False,
        "analytics": True,
        "advertising": False,
    }
    result = read_request(client, org_a, admin, request["id"])["results"]["objection"]
    assert result["changed"] == [
        "channels.email",
        "channels.sms",
        "cookies.advertising",
        "interest_based_advertising",
        "partner_sharing",
    ]
    [change, _] = client.get("/v1/me/preferences/history", headers=me).get_json()["items"]
    assert (change["source"], change["actor_kind"]) == ("data_subject_request", "subject")
    assert (change["actor_id"], change["actor_display"]) == (
        request["id"],
        f"{request['reference']} (objection)",
    )
    assert _mine(client, foreigner)["channels"]["email"] is True


def test_a_consent_withdrawal_turns_off_only_what_it_names(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    _opted_in(client, me)
    request = file_own(
        client,
        me,
        "consent_withdrawal",
        scope={"preferences": ["cookies.analytics", "cookies.necessary"]},
    )
    admin = auth(org_a, ADMIN)
    assert fulfil(client, runtime, org_a, admin, request["id"])["state"] == "succeeded"
    mine = _mine(client, me)
    assert mine["cookies"]["analytics"] is False
    assert mine["cookies"]["necessary"] is True
    assert (mine["channels"]["email"], mine["partner_sharing"]) == (True, True)
    result = read_request(client, org_a, admin, request["id"])["results"]["consent_withdrawal"]
    assert (result["changed"], result["not_refusable"]) == (
        ["cookies.analytics"],
        ["cookies.necessary"],
    )


def test_a_consent_withdrawal_naming_nothing_withdraws_every_marketing_consent(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    _opted_in(client, me)
    request = file_own(client, me, "consent_withdrawal")
    assert fulfil(client, runtime, org_a, auth(org_a, ADMIN), request["id"])["state"] == (
        "succeeded"
    )
    mine = _mine(client, me)
    assert {k: mine[k] for k in MARKETING} == MARKETING
    assert (mine["cookies"]["advertising"], mine["cookies"]["analytics"]) == (False, True)
