"""SCIM tokens: organisation admins create, list and revoke them; the secret is shown once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import time_machine
from sqlalchemy import select

from facito_admin.db.base import utcnow
from facito_admin.db.session import cross_organisation_session
from facito_admin.http.idempotency_models import IdempotencyRecord
from facito_admin.scim.models import ScimToken
from tests.api.organisations.helpers import audit_trail
from tests.api.scim.conftest import ERROR, SCIM, SCIM_JSON, bearer
from tests.conftest import Org

ADMIN = "Organisation.Admin"


def _url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/scim-tokens{suffix}"


def _assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.headers["Content-Type"] == SCIM_JSON
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["schemas"] == [ERROR]
    assert response.json["status"] == "401"


def test_an_admin_creates_a_token_whose_secret_is_shown_once(client, runtime, org_a, org_b, auth):
    admin = auth(org_a, ADMIN)
    created = client.post(_url(org_a), json={"description": "Entra ID"}, headers=admin)

    assert created.status_code == 201
    body = created.json
    assert body["token"].startswith("fscim.")
    assert body["description"] == "Entra ID"
    assert body["last_used_at"] is None
    assert body["expires_at"] is None
    assert body["revoked_at"] is None
    assert created.headers["Location"].endswith(_url(org_a, f"/{body['id']}"))
    listed = client.get(_url(org_a), headers=admin).json["items"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0]
    read = client.get(_url(org_a, f"/{body['id']}"), headers=admin).json
    assert "token" not in read
    assert body["token"] not in str(read)
    # Only the sha256 of the secret is stored.
    secret = body["token"].rsplit(".", 1)[1]
    with runtime.session(organisation_id=org_a.id) as session:
        row = session.scalars(select(ScimToken)).one()
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(vars(row))
    assert [e["action"] for e in audit_trail(runtime, org_a.id)][-1] == "org:scim-token:create"
    # Organisation B sees none of it.
    other = auth(org_b, ADMIN)
    assert client.get(_url(org_b), headers=other).json["items"] == []
    assert client.get(_url(org_a, f"/{body['id']}"), headers=other).status_code == 404
    assert client.get(_url(org_b, f"/{body['id']}"), headers=other).status_code == 404


def test_a_repeated_idempotent_create_neither_replays_nor_keeps_the_secret(
    client, runtime, org_a, org_b, auth
):
    headers = auth(org_a, ADMIN) | {"Idempotency-Key": "entra-token"}
    first = client.post(_url(org_a), json={"description": "Entra ID"}, headers=headers)
    assert first.status_code == 201
    assert first.headers["Cache-Control"] == "no-store"

    again = client.post(_url(org_a), json={"description": "Entra ID"}, headers=headers)

    assert again.status_code == 409
    assert again.json["code"] == "idempotent-answer-withheld"
    assert again.headers["Location"] == first.headers["Location"]
    with cross_organisation_session(runtime, reason="test: read the stored answers") as session:
        assert session.scalars(select(IdempotencyRecord.response_body)).all() == [None]
    assert len(client.get(_url(org_a), headers=auth(org_a, ADMIN)).json["items"]) == 1
    assert client.get(_url(org_b), headers=auth(org_b, ADMIN)).json["items"] == []


def test_an_expiry_beyond_the_calendar_is_refused(client, org_a, org_b, auth):
    body = {"description": "far", "expires_at": "9999-12-31T23:59:59-05:00"}
    response = client.post(_url(org_a), json=body, headers=auth(org_a, ADMIN))
    assert response.status_code == 422
    assert "expires_at" in str(response.json["errors"])
    assert client.get(_url(org_a), headers=auth(org_a, ADMIN)).json["items"] == []


def test_readers_and_integrations_cannot_manage_tokens(client, org_a, org_b, auth):
    for role in ("Organisation.Reader", "Integration.ReadWrite", "Privacy.Officer"):
        headers = auth(org_a, role)
        assert client.get(_url(org_a), headers=headers).status_code == 403
        assert (
            client.post(_url(org_a), json={"description": "x"}, headers=headers).status_code == 403
        )


def test_a_token_that_would_already_be_expired_is_refused(client, org_a, org_b, auth):
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    response = client.post(
        _url(org_a), json={"description": "x", "expires_at": past}, headers=auth(org_a, ADMIN)
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "expires_at"


def test_a_revoked_token_gets_401_on_scim(client, runtime, org_a, org_b, auth, create_scim_token):
    admin = auth(org_a, ADMIN)
    created = create_scim_token(org_a)
    headers = bearer(created["token"])
    assert client.get(f"{SCIM}/Users", headers=headers).status_code == 200

    revoked = client.post(_url(org_a, f"/{created['id']}/revoke"), headers=admin)
    assert revoked.status_code == 200
    assert revoked.json["revoked_at"] is not None
    _assert_refused(client.get(f"{SCIM}/Users", headers=headers))
    again = client.post(_url(org_a, f"/{created['id']}/revoke"), headers=admin)
    assert again.status_code == 409
    assert [e["action"] for e in audit_trail(runtime, org_a.id)][-1] == "org:scim-token:revoke"
    # Organisation B cannot revoke A's tokens.
    assert (
        client.post(_url(org_b, f"/{created['id']}/revoke"), headers=auth(org_b, ADMIN)).status_code
        == 404
    )


def test_an_expired_token_gets_401(client, org_a, org_b, create_scim_token):
    expires = utcnow() + timedelta(hours=1)
    created = create_scim_token(org_a, expires_at=expires.isoformat())
    headers = bearer(created["token"])
    assert client.get(f"{SCIM}/Users", headers=headers).status_code == 200
    with time_machine.travel(expires + timedelta(seconds=1)):
        _assert_refused(client.get(f"{SCIM}/Users", headers=headers))


def test_a_forged_or_altered_token_gets_401(client, org_a, org_b, create_scim_token):
    token = create_scim_token(org_a)["token"]
    prefix, org, token_id, secret = token.split(".")
    other = create_scim_token(org_b)["token"]
    for forged in (
        f"{prefix}.{org}.{token_id}.{secret[:-1]}x",
        # The secret of B's token with A's organisation and id, and A's with B's organisation.
        f"{prefix}.{org}.{token_id}.{other.split('.')[3]}",
        f"{prefix}.{other.split('.')[1]}.{token_id}.{secret}",
        "fscim.not-hex.nope.secret",
        "",
    ):
        _assert_refused(client.get(f"{SCIM}/Users", headers=bearer(forged)))
    _assert_refused(client.get(f"{SCIM}/Users"))


def test_entra_tokens_and_scim_tokens_each_work_only_on_their_own_routes(
    client, org_a, org_b, auth, scim_a
):
    _assert_refused(client.get(f"{SCIM}/Users", headers=auth(org_a, ADMIN)))
    refused = client.get(f"/v1/organisations/{org_a.id}/accounts", headers=scim_a)
    assert refused.status_code == 401
    assert refused.headers["Content-Type"] == "application/problem+json"


def test_using_a_token_records_when_it_was_last_used(client, org_a, org_b, auth, create_scim_token):
    created = create_scim_token(org_a)
    client.get(f"{SCIM}/ServiceProviderConfig", headers=bearer(created["token"]))
    read = client.get(_url(org_a, f"/{created['id']}"), headers=auth(org_a, ADMIN)).json
    assert read["last_used_at"] is not None


def test_a_suspended_organisations_tokens_get_401(client, org_a, org_b, operator, scim_a, scim_b):
    suspended = client.post(
        f"/v1/organisations/{org_a.id}/suspend",
        json={"reason": "invoice overdue"},
        headers=operator,
    )
    assert suspended.status_code == 200
    _assert_refused(client.get(f"{SCIM}/Users", headers=scim_a))
    assert client.get(f"{SCIM}/Users", headers=scim_b).status_code == 200
