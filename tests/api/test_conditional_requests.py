"""Conditional requests (RFC 9110 §13), the same on every route of either protocol: a read
whose If-None-Match names the current ETag is 304 with no body, and a change whose If-Match
is stale is 412 from the one IfMatch check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.runtime import Runtime
from tests.api.accounts.helpers import account_url, accounts_url, create
from tests.api.contracts.helpers import contract_url, create_contract
from tests.api.policies.helpers import URL as STATEMENTS
from tests.api.policies.helpers import create_draft
from tests.api.scim.conftest import (
    ERROR,
    SCIM,
    create_group,
    create_scim_token,
    create_user,
    patch,
    scim_a,
    scim_b,
)
from tests.conftest import Org
from tests.factories.webhooks import make_endpoint

__all__ = ["create_scim_token", "scim_a", "scim_b"]
Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"


def _not_modified(client: FlaskClient, url: str, headers: dict[str, str]) -> None:
    """The resource answers its ETag, and 304 with no body when asked with it."""
    first = client.get(url, headers=headers)
    assert first.status_code == 200, first.get_json()
    etag = first.headers["ETag"]
    again = client.get(url, headers=headers | {"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert "Content-Type" not in again.headers
    assert "Content-Length" not in again.headers
    assert again.headers["ETag"] == etag
    assert again.headers["X-Request-ID"]
    # Weak comparison (RFC 9110 §13.1.2), and one tag of a list is enough.
    listed = client.get(url, headers=headers | {"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    other = client.get(url, headers=headers | {"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200
    assert other.get_json() == first.get_json()


@pytest.fixture
def account(client: FlaskClient, org_a: Org, auth: Auth) -> dict[str, Any]:
    return create(
        client, org_a, auth(org_a, ADMIN), user_principal_name="anna@a.example", display_name="Anna"
    )


def test_an_account_read_again_with_its_etag_is_not_modified(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth, account: dict[str, Any]
):
    _not_modified(client, account_url(org_a, account["id"]), auth(org_a, ADMIN))


def test_a_changed_account_is_sent_again_and_another_organisation_still_gets_404(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth, account: dict[str, Any]
):
    headers = auth(org_a, ADMIN)
    url = account_url(org_a, account["id"])
    etag = client.get(url, headers=headers).headers["ETag"]
    changed = client.patch(url, json={"department": "Tours"}, headers=headers | {"If-Match": etag})
    assert changed.status_code == 200
    fresh = client.get(url, headers=headers | {"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.get_json()["department"] == "Tours"
    # A caller of another organisation who knows the tag learns nothing from it.
    outsider = client.get(url, headers=auth(org_b, ADMIN) | {"If-None-Match": etag})
    assert outsider.status_code == 404


def test_an_organisation_a_contract_an_endpoint_and_a_statement_are_not_modified(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth, operator
):
    _not_modified(client, f"/v1/organisations/{org_a.id}", operator)
    contract, _ = create_contract(client, org_a, operator)
    _not_modified(client, contract_url(org_a, contract["id"]), auth(org_a, ADMIN))
    endpoint = make_endpoint(runtime, org_a.id, "https://hooks.a.example/in")
    _not_modified(
        client,
        f"/v1/organisations/{org_a.id}/webhook-endpoints/{endpoint.id}",
        auth(org_a, ADMIN),
    )
    dpo = auth(None, "Facito.PrivacyOfficer")
    draft = create_draft(client, dpo, label="2027-01", effective_from=utcnow() + timedelta(days=60))
    _not_modified(client, f"{STATEMENTS}/{draft['id']}", dpo)
    assert (
        client.get(contract_url(org_b, contract["id"]), headers=auth(org_b, ADMIN)).status_code
        == 404
    )


def test_scim_users_and_groups_are_not_modified(
    client: FlaskClient, scim_a: dict[str, str], scim_b: dict[str, str]
):
    user = create_user(client, scim_a, "bjensen@example.com")
    group = create_group(client, scim_a, "Tour guides", user["id"])
    _not_modified(client, f"{SCIM}/Users/{user['id']}", scim_a)
    _not_modified(client, f"{SCIM}/Groups/{group['id']}", scim_a)
    etag = user["meta"]["version"]
    outsider = client.get(f"{SCIM}/Users/{user['id']}", headers=scim_b | {"If-None-Match": etag})
    assert outsider.status_code == 404


def test_a_stale_if_match_is_412_over_rest_and_over_scim_alike(
    client: FlaskClient, org_a: Org, auth: Auth, scim_a: dict[str, str]
):
    user = create_user(client, scim_a, "bjensen@example.com")
    stale = user["meta"]["version"]
    headers = auth(org_a, ADMIN)
    url = account_url(org_a, user["id"])
    # The same account, the same tag: SCIM's meta.version is the REST ETag.
    assert client.get(url, headers=headers).headers["ETag"] == stale
    assert (
        client.patch(
            url, json={"department": "Tours"}, headers=headers | {"If-Match": stale}
        ).status_code
        == 200
    )

    rest = client.patch(url, json={"department": "Sales"}, headers=headers | {"If-Match": stale})
    assert rest.status_code == 412
    assert rest.get_json()["code"] == "precondition-failed"
    scim = client.patch(
        f"{SCIM}/Users/{user['id']}",
        json=patch({"op": "replace", "path": "title", "value": "Guide"}),
        headers=scim_a | {"If-Match": stale},
    )
    assert scim.status_code == 412
    assert scim.get_json()["schemas"] == [ERROR]
    assert scim.get_json()["detail"] == rest.get_json()["detail"]
    # Nothing changed on either refusal.
    current = client.get(url, headers=headers).get_json()
    assert (current["department"], current["job_title"]) == ("Tours", None)


def test_if_match_compares_strongly_and_takes_any(
    client: FlaskClient, org_a: Org, auth: Auth, account: dict[str, Any]
):
    headers = auth(org_a, ADMIN)
    url = account_url(org_a, account["id"])
    etag = client.get(url, headers=headers).headers["ETag"]
    weak = client.patch(url, json={"department": "A"}, headers=headers | {"If-Match": f"W/{etag}"})
    assert weak.status_code == 412
    listed = client.patch(
        url, json={"department": "B"}, headers=headers | {"If-Match": f'"old", {etag}'}
    )
    assert listed.status_code == 200
    anything = client.patch(url, json={"department": "C"}, headers=headers | {"If-Match": "*"})
    assert anything.status_code == 200


@pytest.mark.parametrize("value", ["abc", '"unterminated', '"a" "b"', ",", 'W/ "x"'])
def test_a_malformed_if_match_is_400_naming_the_header(
    client: FlaskClient, org_a: Org, auth: Auth, account: dict[str, Any], value: str
):
    response = client.patch(
        account_url(org_a, account["id"]),
        json={"department": "A"},
        headers=auth(org_a, ADMIN) | {"If-Match": value},
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid-if-match"
    assert body["errors"][0]["field"] == "If-Match"


def test_a_list_is_not_conditional_and_answers_in_full(
    client: FlaskClient, org_a: Org, auth: Auth, account: dict[str, Any]
):
    response = client.get(accounts_url(org_a), headers=auth(org_a, ADMIN) | {"If-None-Match": "*"})
    assert response.status_code == 200
    assert "ETag" not in response.headers


def test_answers_without_a_body_carry_no_content_type(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, scim_a: dict[str, str]
):
    endpoint = make_endpoint(runtime, org_a.id, "https://hooks.a.example/in")
    url = f"/v1/organisations/{org_a.id}/webhook-endpoints/{endpoint.id}"
    headers = auth(org_a, ADMIN)
    etag = client.get(url, headers=headers).headers["ETag"]
    removed = client.delete(url, headers=headers | {"If-Match": etag})
    assert removed.status_code == 204
    assert "Content-Type" not in removed.headers
    assert "Content-Length" not in removed.headers
    assert removed.get_data() == b""
    user = create_user(client, scim_a, "bjensen@example.com")
    deleted = client.delete(f"{SCIM}/Users/{user['id']}", headers=scim_a)
    assert deleted.status_code == 204
    assert "Content-Type" not in deleted.headers
