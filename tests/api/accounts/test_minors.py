"""Minors (GDPR art. 8, threshold 16 from the policy): no active account without a guardian."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from facito_admin.db.base import utcnow
from tests.api.accounts.helpers import account_url, accounts_url, create, etag
from tests.api.organisations.helpers import actions
from tests.conftest import Org
from tests.factories.accounts import birth_date_for_age, make_account, record_guardian_consent

ADMIN = "Organisation.Admin"
KID = {"user_principal_name": "kid@example.com", "display_name": "Kid"}


def test_creating_an_active_account_for_a_minor_is_409_without_guardian_consent(
    client, runtime, org_a: Org, auth
):
    before = actions(runtime, org_a.id)
    response = client.post(
        accounts_url(org_a),
        json=KID | {"birth_date": str(birth_date_for_age(15))},
        headers=auth(org_a, ADMIN),
    )
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["code"] == "guardian-consent-required"
    assert "guardian" in problem["detail"]
    assert actions(runtime, org_a.id) == before


def test_a_minor_is_created_disabled_and_enabled_once_a_guardian_consented(
    client, runtime, org_a: Org, auth
):
    admin = auth(org_a, ADMIN)
    kid = create(
        client, org_a, admin, **KID, birth_date=str(birth_date_for_age(13)), status="disabled"
    )
    assert kid["is_minor"] is True
    assert kid["guardian_consent_at"] is None
    refused = client.post(account_url(org_a, kid["id"], "/enable"), headers=admin)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "guardian-consent-required"
    record_guardian_consent(runtime, org_a.id, kid["id"])
    enabled = client.post(account_url(org_a, kid["id"], "/enable"), headers=admin)
    assert enabled.status_code == 200
    assert enabled.get_json()["guardian_consent_at"] is not None


def test_the_threshold_is_sixteen_to_the_day(client, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    sixteen = create(
        client,
        org_a,
        admin,
        user_principal_name="a@example.com",
        display_name="A",
        birth_date=str(birth_date_for_age(16)),
    )
    assert sixteen["is_minor"] is False
    almost = client.post(
        accounts_url(org_a),
        json={
            "user_principal_name": "b@example.com",
            "display_name": "B",
            "birth_date": str(birth_date_for_age(16, days=1)),
        },
        headers=admin,
    )
    assert almost.status_code == 409


def test_a_minor_becomes_an_adult_on_the_sixteenth_birthday(client, org_a: Org, auth):
    kid = create(
        client,
        org_a,
        auth(org_a, ADMIN),
        **KID,
        birth_date=str(birth_date_for_age(16, days=10)),
        status="disabled",
    )
    with time_machine.travel(utcnow() + timedelta(days=10), tick=False):
        admin = auth(org_a, ADMIN)
        assert (
            client.get(account_url(org_a, kid["id"]), headers=admin).get_json()["is_minor"] is False
        )
        assert (
            client.post(account_url(org_a, kid["id"], "/enable"), headers=admin).status_code == 200
        )


def test_without_a_birth_date_the_minor_flag_is_set_explicitly(client, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    flagged = client.post(accounts_url(org_a), json=KID | {"is_minor": True}, headers=admin)
    assert flagged.status_code == 409
    kid = create(client, org_a, admin, **KID, is_minor=True, status="disabled")
    assert kid["is_minor"] is True
    assert kid["birth_date"] is None


def test_a_minor_flag_that_contradicts_the_birth_date_is_422(client, org_a: Org, auth):
    response = client.post(
        accounts_url(org_a),
        json=KID | {"birth_date": str(birth_date_for_age(30)), "is_minor": True},
        headers=auth(org_a, ADMIN),
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "is_minor"


def test_a_birth_date_that_makes_an_active_account_a_minors_is_refused(
    client, runtime, org_a: Org, auth
):
    admin = auth(org_a, ADMIN)
    account = make_account(runtime, org_a.id)
    url = account_url(org_a, account.id)
    tag = etag(client, org_a, str(account.id), admin)
    response = client.patch(
        url, json={"birth_date": str(birth_date_for_age(12))}, headers=admin | {"If-Match": tag}
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "guardian-consent-required"
    assert client.get(url, headers=admin).get_json()["birth_date"] is None
    client.post(url + "/disable", headers=admin)
    tag = etag(client, org_a, str(account.id), admin)
    changed = client.patch(
        url, json={"birth_date": str(birth_date_for_age(12))}, headers=admin | {"If-Match": tag}
    )
    assert changed.status_code == 200
    assert changed.get_json()["is_minor"] is True
    tag = changed.headers["ETag"]
    cleared = client.patch(url, json={"birth_date": None}, headers=admin | {"If-Match": tag})
    assert cleared.get_json()["birth_date"] is None


def test_restoring_a_minors_active_account_needs_guardian_consent(
    client, runtime, org_a: Org, auth
):
    admin = auth(org_a, ADMIN)
    kid = create(
        client, org_a, admin, **KID, birth_date=str(birth_date_for_age(14)), status="disabled"
    )
    record_guardian_consent(runtime, org_a.id, kid["id"])
    client.post(account_url(org_a, kid["id"], "/enable"), headers=admin)
    tag = etag(client, org_a, kid["id"], admin)
    client.delete(account_url(org_a, kid["id"]), headers=admin | {"If-Match": tag})
    # The guardian withdraws the consent meanwhile.
    revoked = client.post(
        f"/v1/organisations/{org_a.id}/accounts/{kid['id']}/guardian-consent/revoke",
        json={"reason": "withdrawn"},
        headers=admin,
    )
    assert revoked.status_code == 200
    response = client.post(account_url(org_a, kid["id"], "/restore"), headers=admin)
    assert response.status_code == 409
    assert response.get_json()["code"] == "guardian-consent-required"
