"""Accounts: create, read, change with If-Match; uniqueness; the other organisation sees nothing."""

from __future__ import annotations

import uuid

import pytest

from facito_admin.accounts import service as account_service
from facito_admin.accounts.actions import AccountAction
from facito_admin.organisations.actions import OrganisationAction
from tests.api.accounts.helpers import account_url, accounts_url, create, etag, new_actions
from tests.api.organisations.helpers import actions, audit_trail
from tests.conftest import Org
from tests.factories.accounts import make_account

ADMIN = "Organisation.Admin"
ANN = {
    "user_principal_name": "Ann.de.Vries@Example.com",
    "email": "Ann.de.Vries@Example.com",
    "display_name": "Ann de Vries",
    "given_name": "Ann",
    "family_name": "de Vries",
    "employee_number": "E-1001",
    "department": "Finance",
}


def test_creating_an_account_returns_it_with_location_and_etag(
    client, runtime, org_a: Org, org_b: Org, auth
):
    admin = auth(org_a, ADMIN)
    response = client.post(accounts_url(org_a), json=ANN, headers=admin)
    assert response.status_code == 201
    account = response.get_json()
    assert account["user_principal_name"] == "Ann.de.Vries@Example.com"
    assert account["status"] == "active"
    assert account["source"] == "manual"
    assert account["organisation_id"] == str(org_a.id)
    assert account["is_minor"] is False
    assert account["deleted_at"] is None
    assert uuid.UUID(account["id"]).version == 7
    read = client.get(response.headers["Location"], headers=admin)
    assert read.get_json() == account
    assert read.headers["ETag"] == response.headers["ETag"]
    trail = audit_trail(runtime, org_a.id)
    assert trail[-1]["action"] == AccountAction.AccountCreate
    assert trail[-1]["target_id"] == account["id"]
    # No personal data in the append-only log: field names only.
    assert "Ann" not in str(trail[-1]["details"])
    other = auth(org_b, ADMIN)
    assert client.get(account_url(org_b, account["id"]), headers=other).status_code == 404
    assert client.get(account_url(org_a, account["id"]), headers=other).status_code == 404
    assert client.get(accounts_url(org_b), headers=other).get_json()["items"] == []


def test_a_minimal_account_needs_only_upn_and_display_name(client, org_a: Org, auth):
    account = create(
        client, org_a, auth(org_a, ADMIN), user_principal_name="x@example.com", display_name="X"
    )
    assert account["email"] is None
    assert account["department"] is None
    assert account["manager_id"] is None


def test_an_integration_links_the_entra_object_id_and_external_id(client, org_a: Org, auth):
    oid = "8F0C1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B"
    account = create(
        client,
        org_a,
        auth(org_a, "Integration.ReadWrite", app=True),
        **ANN,
        entra_oid=oid,
        external_id="HR-77",
    )
    assert account["entra_oid"] == oid.lower()
    assert account["external_id"] == "HR-77"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": "No UPN"}, "user_principal_name"),
        ({"user_principal_name": "no-at-sign", "display_name": "X"}, "user_principal_name"),
        ({"user_principal_name": "a b@example.com", "display_name": "X"}, "user_principal_name"),
        ({"user_principal_name": "x@example.com"}, "display_name"),
        ({"user_principal_name": "x@example.com", "display_name": "   "}, "display_name"),
        ({"user_principal_name": "x@example.com", "display_name": "a\x00b"}, "display_name"),
        ({"user_principal_name": "x@example.com", "display_name": "\ud800"}, "display_name"),
        ({"user_principal_name": "x@example.com", "display_name": "x" * 257}, "display_name"),
        ({"user_principal_name": "x@example.com", "display_name": 7}, "display_name"),
        ({"user_principal_name": "x@example.com", "display_name": "X", "email": "nope"}, "email"),
        (
            {"user_principal_name": "x@example.com", "display_name": "X", "entra_oid": "1"},
            "entra_oid",
        ),
        (
            {
                "user_principal_name": "x@example.com",
                "display_name": "X",
                "birth_date": "2999-01-01",
            },
            "birth_date",
        ),
        (
            {"user_principal_name": "x@example.com", "display_name": "X", "birth_date": "1-2-3"},
            "birth_date",
        ),
        (
            {"user_principal_name": "x@example.com", "display_name": "X", "manager_id": "nope"},
            "manager_id",
        ),
        (
            {"user_principal_name": "x@example.com", "display_name": "X", "status": "deleted"},
            "status",
        ),
        (
            {"user_principal_name": "x@example.com", "display_name": "X", "source": "graph"},
            "source",
        ),
        (
            {"user_principal_name": "x@example.com", "display_name": "X", "organisation_id": "x"},
            "organisation_id",
        ),
    ],
)
def test_invalid_input_is_refused_with_422_naming_the_field(
    client, runtime, org_a: Org, auth, body, field
):
    before = actions(runtime, org_a.id)
    response = client.post(accounts_url(org_a), json=body, headers=auth(org_a, ADMIN))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}
    assert actions(runtime, org_a.id) == before


def test_a_body_that_is_not_json_is_refused(client, org_a: Org, auth):
    response = client.post(
        accounts_url(org_a), data="upn=x", headers=auth(org_a, ADMIN), content_type="text/plain"
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        ("user_principal_name", "ann@example.com", "ANN@Example.COM"),
        ("email", "ann@example.com", "Ann@EXAMPLE.com"),
        (
            "entra_oid",
            "8f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
            "8F0C1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B",
        ),
        ("external_id", "HR-1", "HR-1"),
    ],
)
def test_unique_attributes_clash_case_insensitively_with_409_naming_the_field(
    client, runtime, org_a: Org, org_b: Org, auth, field, first, second
):
    admin = auth(org_a, ADMIN)
    create(
        client,
        org_a,
        admin,
        **{"user_principal_name": "one@example.com", "display_name": "One", field: first},
    )
    before = actions(runtime, org_a.id)
    body = {"user_principal_name": "two@example.com", "display_name": "Two", field: second}
    response = client.post(accounts_url(org_a), json=body, headers=admin)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["code"] == "already-exists"
    assert problem["field"] == field
    assert actions(runtime, org_a.id) == before
    # Uniqueness is per organisation: B may have the same value.
    create(client, org_b, auth(org_b, ADMIN), **body)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_principal_name", "ann@example.com"),
        ("email", "ann@example.com"),
        ("entra_oid", "8f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"),
        ("external_id", "HR-1"),
    ],
)
def test_a_create_that_loses_a_race_for_a_unique_value_gets_409_naming_the_field(
    client, runtime, org_a: Org, org_b: Org, auth, monkeypatch, field, value
):
    admin = auth(org_a, ADMIN)
    create(
        client,
        org_a,
        admin,
        **{"user_principal_name": "one@example.com", "display_name": "One", field: value},
    )
    before = actions(runtime, org_a.id)
    # A concurrent create checked before the winner committed: the unique index refuses it.
    monkeypatch.setattr(account_service, "check_unique", lambda *_args, **_kwargs: None)
    body = {"user_principal_name": "two@example.com", "display_name": "Two", field: value}
    response = client.post(accounts_url(org_a), json=body, headers=admin)
    assert response.status_code == 409
    problem = response.get_json()
    assert (problem["code"], problem["field"]) == ("already-exists", field)
    assert actions(runtime, org_a.id) == before
    create(client, org_b, auth(org_b, ADMIN), **body)


def test_external_ids_are_case_exact(client, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    create(
        client,
        org_a,
        admin,
        user_principal_name="a@example.com",
        display_name="A",
        external_id="hr-1",
    )
    create(
        client,
        org_a,
        admin,
        user_principal_name="b@example.com",
        display_name="B",
        external_id="HR-1",
    )


def test_a_deleted_account_frees_its_upn_and_email_but_not_its_object_id(client, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    oid = str(uuid.uuid4())
    old = create(client, org_a, admin, **ANN, entra_oid=oid)
    tag = etag(client, org_a, old["id"], admin)
    assert (
        client.delete(account_url(org_a, old["id"]), headers=admin | {"If-Match": tag}).status_code
        == 200
    )
    again = client.post(accounts_url(org_a), json=ANN, headers=admin)
    assert again.status_code == 201
    clash = client.post(
        accounts_url(org_a),
        json={"user_principal_name": "z@example.com", "display_name": "Z", "entra_oid": oid},
        headers=admin,
    )
    assert clash.status_code == 409
    assert clash.get_json()["field"] == "entra_oid"


def test_patch_needs_if_match_and_refuses_a_stale_etag(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    account = create(client, org_a, admin, **ANN)
    url = account_url(org_a, account["id"])
    missing = client.patch(url, json={"department": "Sales"}, headers=admin)
    assert missing.status_code == 428
    assert missing.get_json()["code"] == "precondition-required"
    first = etag(client, org_a, account["id"], admin)
    changed = client.patch(url, json={"department": "Sales"}, headers=admin | {"If-Match": first})
    assert changed.status_code == 200
    assert changed.get_json()["department"] == "Sales"
    assert changed.headers["ETag"] != first
    before = actions(runtime, org_a.id)
    stale = client.patch(url, json={"department": "Legal"}, headers=admin | {"If-Match": first})
    assert stale.status_code == 412
    assert stale.get_json()["code"] == "precondition-failed"
    assert client.get(url, headers=admin).get_json()["department"] == "Sales"
    assert actions(runtime, org_a.id) == before


def test_patch_changes_only_the_fields_sent_and_null_clears_them(client, runtime, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    account = create(client, org_a, admin, **ANN)
    url = account_url(org_a, account["id"])
    before = actions(runtime, org_a.id)
    response = client.patch(
        url,
        json={"display_name": "Ann Jansen", "employee_number": None, "email": "ann@example.org"},
        headers=admin | {"If-Match": etag(client, org_a, account["id"], admin)},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["display_name"] == "Ann Jansen"
    assert body["employee_number"] is None
    assert body["email"] == "ann@example.org"
    assert body["given_name"] == "Ann"
    assert new_actions(runtime, org_a, before) == [AccountAction.AccountUpdate]
    assert audit_trail(runtime, org_a.id)[-1]["details"] == {
        "fields": ["display_name", "email", "employee_number"]
    }


def test_patch_cannot_take_another_accounts_upn(client, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    create(client, org_a, admin, user_principal_name="taken@example.com", display_name="T")
    account = create(client, org_a, admin, **ANN)
    url = account_url(org_a, account["id"])
    tag = etag(client, org_a, account["id"], admin)
    response = client.patch(
        url, json={"user_principal_name": "TAKEN@example.com"}, headers=admin | {"If-Match": tag}
    )
    assert response.status_code == 409
    assert response.get_json()["field"] == "user_principal_name"
    # Changing only the case of its own UPN is fine.
    response = client.patch(
        url,
        json={"user_principal_name": "ann.de.vries@example.com"},
        headers=admin | {"If-Match": tag},
    )
    assert response.status_code == 200


def test_a_manager_is_another_account_of_the_same_organisation(
    client, runtime, org_a: Org, org_b: Org, auth
):
    admin = auth(org_a, ADMIN)
    boss = create(client, org_a, admin, user_principal_name="boss@example.com", display_name="B")
    report = create(client, org_a, admin, **ANN, manager_id=boss["id"])
    assert report["manager_id"] == boss["id"]
    url = account_url(org_a, report["id"])
    tag = etag(client, org_a, report["id"], admin)
    itself = client.patch(url, json={"manager_id": report["id"]}, headers=admin | {"If-Match": tag})
    assert itself.status_code == 422
    outsider = make_account(runtime, org_b.id, "b1")
    other = client.patch(
        url, json={"manager_id": str(outsider.id)}, headers=admin | {"If-Match": tag}
    )
    assert other.status_code == 422
    assert other.get_json()["errors"][0]["field"] == "manager_id"
    cleared = client.patch(url, json={"manager_id": None}, headers=admin | {"If-Match": tag})
    assert cleared.status_code == 200
    assert cleared.get_json()["manager_id"] is None


def test_every_account_route_of_another_organisation_answers_404(
    client, runtime, org_a: Org, org_b: Org, auth
):
    account = make_account(runtime, org_a.id)
    other = auth(org_b, ADMIN) | {"If-Match": "*"}
    for url in (account_url(org_a, account.id), account_url(org_b, account.id)):
        assert client.get(url, headers=other).status_code == 404
        assert client.patch(url, json={"department": "X"}, headers=other).status_code == 404
        assert client.delete(url, headers=other).status_code == 404
        for action in ("/disable", "/enable", "/restore"):
            assert client.post(url + action, headers=other).status_code == 404
    assert client.get(accounts_url(org_a), headers=other).status_code == 404
    assert client.post(accounts_url(org_a), json=ANN, headers=other).status_code == 404
    assert client.get(accounts_url(org_b), headers=other).get_json()["items"] == []
    assert actions(runtime, org_b.id) == [OrganisationAction.OrganisationCreate]


def test_an_unknown_account_is_404(client, org_a: Org, auth):
    response = client.get(account_url(org_a, uuid.uuid4()), headers=auth(org_a, ADMIN))
    assert response.status_code == 404
    assert response.get_json()["code"] == "not-found"


def test_identifiers_with_a_trailing_newline_are_trimmed_or_refused(client, org_a: Org, auth):
    admin = auth(org_a, ADMIN)
    oid = "8f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    account = create(client, org_a, admin, **ANN, entra_oid=oid + "\n", external_id="HR-9\n")
    assert account["entra_oid"] == oid
    assert account["external_id"] == "HR-9"
    response = client.post(
        accounts_url(org_a),
        json={"user_principal_name": "x@example.com\n\x00", "display_name": "X"},
        headers=admin,
    )
    assert response.status_code == 422
