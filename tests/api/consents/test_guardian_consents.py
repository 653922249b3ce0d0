"""Guardian consents (GDPR art. 8): a minor's account is active only while one is in force."""

from __future__ import annotations

import uuid
from datetime import timedelta

from facito_admin.db.base import utcnow
from tests.api.accounts.helpers import account_url, create, new_actions
from tests.api.consents.helpers import ADMIN, PRIVACY, READER, guardian_url
from tests.api.organisations.helpers import actions
from tests.conftest import Org
from tests.factories.accounts import birth_date_for_age, grant, make_account
from tests.factories.consents import (
    data_records,
    guardian_body,
    make_data_record,
    make_guardian_consent,
)

KID = {"user_principal_name": "kid@example.com", "display_name": "Kid"}


def _minor(client, org: Org, headers: dict[str, str], age: int = 13) -> dict:
    return create(
        client, org, headers, **KID, birth_date=str(birth_date_for_age(age)), status="disabled"
    )


def test_a_minor_is_activated_through_the_api_once_a_guardian_consented_and_disabled_on_revoke(
    client, runtime, org_a: Org, auth
):
    admin = auth(org_a, ADMIN)
    kid = _minor(client, org_a, admin)
    enable = account_url(org_a, kid["id"], "/enable")
    refused = client.post(enable, headers=admin)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "guardian-consent-required"

    before = actions(runtime, org_a.id)
    recorded = client.post(guardian_url(org_a, kid["id"]), json=guardian_body(), headers=admin)
    assert recorded.status_code == 201, recorded.get_json()
    consent = recorded.get_json()
    assert recorded.headers["Location"].endswith(guardian_url(org_a, kid["id"]))
    assert consent["in_force"] is True
    assert consent["scope"] == ["account", "products"]
    assert consent["recorded_by_display"]
    assert new_actions(runtime, org_a, before) == ["org:guardian-consent:record"]

    enabled = client.post(enable, headers=admin)
    assert enabled.status_code == 200
    assert enabled.get_json()["status"] == "active"
    assert enabled.get_json()["guardian_consent_at"] is not None
    grant(runtime, org_a.id, uuid.UUID(kid["id"]), "website-hosting")
    record_id = make_data_record(runtime, org_a.id, kid["id"])

    before = actions(runtime, org_a.id)
    revoked = client.post(
        guardian_url(org_a, kid["id"], "/revoke"),
        json={"reason": "The parent withdrew consent by letter"},
        headers=admin,
    )
    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["in_force"] is False
    assert revoked.get_json()["revocation_reason"] == "The parent withdrew consent by letter"
    assert new_actions(runtime, org_a, before) == [
        "org:account:disable",
        "org:data-records:delete-account",
        "org:guardian-consent:revoke",
    ]
    account = client.get(account_url(org_a, kid["id"]), headers=admin).get_json()
    assert account["status"] == "disabled"
    assert account["guardian_consent_at"] is None
    products = client.get(
        account_url(org_a, kid["id"], "/products"), query_string={"active": "true"}, headers=admin
    )
    assert products.get_json()["items"] == []
    [record] = data_records(runtime, org_a.id)
    assert record.id == record_id
    assert record.deleted_at is not None
    # Without consent again, the account stays disabled.
    assert client.post(enable, headers=admin).status_code == 409


def test_the_consent_in_force_and_the_history_are_read(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    kid = _minor(client, org_a, admin)
    make_guardian_consent(runtime, org_a.id, kid["id"])
    client.post(guardian_url(org_a, kid["id"], "/revoke"), json={"reason": "moved"}, headers=admin)
    second = client.post(
        guardian_url(org_a, kid["id"]),
        json=guardian_body(relationship="legal_guardian", guardian_contact="+31 20 123 4567"),
        headers=admin,
    )
    assert second.status_code == 201
    response = client.get(guardian_url(org_a, kid["id"]), headers=auth(org_a, READER))
    assert response.status_code == 200
    body = response.get_json()
    assert body["in_force"]["id"] == second.get_json()["id"]
    assert [c["in_force"] for c in body["history"]] == [True, False]
    assert body["history"][1]["revocation_reason"] == "moved"


def test_an_account_without_consent_reads_an_empty_history(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id)
    body = client.get(guardian_url(org_a, account.id), headers=auth(org_a, READER)).get_json()
    assert body == {"account_id": str(account.id), "in_force": None, "history": []}


def test_an_adults_account_needs_no_guardian_consent(client, runtime, org_a: Org, auth):
    account = make_account(runtime, org_a.id, birth_date=birth_date_for_age(30))
    response = client.post(
        guardian_url(org_a, account.id), json=guardian_body(), headers=auth(org_a, ADMIN)
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "account-not-a-minor"


def test_a_second_consent_while_one_is_in_force_is_refused(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    kid = _minor(client, org_a, admin)
    make_guardian_consent(runtime, org_a.id, kid["id"])
    response = client.post(guardian_url(org_a, kid["id"]), json=guardian_body(), headers=admin)
    assert response.status_code == 409
    assert response.get_json()["code"] == "guardian-consent-in-force"


def test_revoking_without_a_consent_in_force_is_refused(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    kid = _minor(client, org_a, admin)
    response = client.post(
        guardian_url(org_a, kid["id"], "/revoke"), json={"reason": "none"}, headers=admin
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "no-guardian-consent-in-force"


def test_the_consent_body_is_checked(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    kid = _minor(client, org_a, admin)
    url = guardian_url(org_a, kid["id"])
    future = (utcnow() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    for bad, field in [
        ({"verified_at": future}, "verified_at"),
        ({"guardian_contact": "not a contact"}, "guardian_contact"),
        ({"relationship": "aunt"}, "relationship"),
        ({"verification_method": "hunch"}, "verification_method"),
        ({"scope": ["products"]}, "scope"),
        ({"scope": ["account", "no-such-product"]}, "scope"),
        ({"organisation_id": str(org_a.id)}, "organisation_id"),
    ]:
        response = client.post(url, json=guardian_body(**bad), headers=admin)
        assert response.status_code == 422, bad
        assert field in {e["field"] for e in response.get_json()["errors"]}, bad
    # A product code of the catalogue is a scope.
    ok = client.post(url, json=guardian_body(scope=["account", "website-hosting"]), headers=admin)
    assert ok.status_code == 201


def test_readers_read_consents_privacy_officers_record_them(client, runtime, org_a: Org, auth):
    kid = _minor(client, org_a, auth(org_a, ADMIN))
    url = guardian_url(org_a, kid["id"])
    assert client.post(url, json=guardian_body(), headers=auth(org_a, READER)).status_code == 403
    assert client.post(url, json=guardian_body(), headers=auth(org_a, PRIVACY)).status_code == 201
    employee = auth(org_a)
    assert client.get(url, headers=employee).status_code == 403


def test_another_organisation_gets_404_on_every_guardian_route(
    client, runtime, org_a: Org, org_b: Org, auth
):
    kid = _minor(client, org_a, auth(org_a, ADMIN))
    make_guardian_consent(runtime, org_a.id, kid["id"])
    outsider = auth(org_b, ADMIN)
    assert client.get(guardian_url(org_a, kid["id"]), headers=outsider).status_code == 404
    assert (
        client.post(guardian_url(org_a, kid["id"]), json=guardian_body(), headers=outsider)
    ).status_code == 404
    revoke = client.post(
        guardian_url(org_a, kid["id"], "/revoke"), json={"reason": "x"}, headers=outsider
    )
    assert revoke.status_code == 404
    # Org B's path with org A's account: no such account there.
    assert client.get(guardian_url(org_b, kid["id"]), headers=outsider).status_code == 404
    body = client.get(guardian_url(org_a, kid["id"]), headers=auth(org_a, ADMIN)).get_json()
    assert body["in_force"] is not None
