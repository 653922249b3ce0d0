"""SCIM Users are the organisation's accounts: one set of rules, one audit trail with REST."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from facito_admin.accounts import service as account_service
from tests.api.organisations.helpers import audit_trail
from tests.api.scim.conftest import (
    ENTERPRISE,
    ERROR,
    SCIM,
    SCIM_JSON,
    USER,
    create_user,
    new_user,
    patch,
    user_names,
)
from tests.conftest import Org

ADMIN = "Organisation.Admin"


def _accounts(client, org: Org, auth, **query):
    return client.get(
        f"/v1/organisations/{org.id}/accounts", query_string=query, headers=auth(org, ADMIN)
    ).json["items"]


def _filter(client, headers, expression: str, **extra):
    return client.get(
        f"{SCIM}/Users", query_string={"filter": expression, **extra}, headers=headers
    )


def test_a_user_created_by_scim_is_an_account_with_source_scim(
    client, runtime, org_a, org_b, auth, scim_a
):
    response = client.post(
        f"{SCIM}/Users",
        json=new_user(
            "bjensen@example.com",
            title="Tour guide",
            **{ENTERPRISE: {"department": "Tours", "employeeNumber": "701"}},
        ),
        headers=scim_a | {"Content-Type": SCIM_JSON},
    )

    assert response.status_code == 201
    assert response.headers["Content-Type"] == SCIM_JSON
    user = response.json
    assert response.headers["Location"] == user["meta"]["location"]
    assert response.headers["ETag"] == user["meta"]["version"]
    # One strong ETag per version, the same as REST's (a precondition compares strongly).
    assert user["meta"]["version"].startswith('"')
    assert user["schemas"] == [USER, ENTERPRISE]
    assert user["active"] is True
    assert user["title"] == "Tour guide"
    assert user[ENTERPRISE] == {"department": "Tours", "employeeNumber": "701"}
    (account,) = _accounts(client, org_a, auth)
    assert account["id"] == user["id"]
    assert account["source"] == "scim"
    assert account["user_principal_name"] == "bjensen@example.com"
    assert account["external_id"] == "bjensen"
    assert account["department"] == "Tours"
    assert account["job_title"] == "Tour guide"
    assert _accounts(client, org_b, auth) == []


def test_an_account_created_over_rest_is_a_scim_user(client, org_a, org_b, auth, scim_a, scim_b):
    created = client.post(
        f"/v1/organisations/{org_a.id}/accounts",
        json={"user_principal_name": "rest@example.com", "display_name": "Rest Person"},
        headers=auth(org_a, ADMIN),
    ).json
    found = _filter(client, scim_a, 'userName eq "REST@example.com"').json
    assert found["totalResults"] == 1
    assert found["Resources"][0]["id"] == created["id"]
    assert found["Resources"][0]["displayName"] == "Rest Person"
    assert _filter(client, scim_b, 'userName eq "rest@example.com"').json["totalResults"] == 0


def test_scim_and_rest_changes_share_one_audit_trail(client, runtime, org_a, org_b, auth, scim_a):
    user = create_user(client, scim_a, "trail@example.com")
    client.patch(
        f"{SCIM}/Users/{user['id']}",
        json=patch({"op": "replace", "path": "displayName", "value": "Renamed"}),
        headers=scim_a,
    )
    client.post(
        f"/v1/organisations/{org_a.id}/accounts/{user['id']}/disable", headers=auth(org_a, ADMIN)
    )

    events = client.get(
        f"/v1/organisations/{org_a.id}/audit-events", headers=auth(org_a, ADMIN)
    ).json["items"]
    about = [e for e in events if e["target_id"] == user["id"]]
    assert sorted((e["action"], e["actor_kind"]) for e in about) == [
        ("org:account:create", "scim_client"),
        ("org:account:disable", "organisation_user"),
        ("org:account:update", "scim_client"),
    ]
    trail = audit_trail(runtime, org_a.id)
    assert any(e["actor_display"].startswith("SCIM token") for e in trail)


def test_filters_run_the_rfc_operators_on_stored_attributes(client, org_a, org_b, scim_a):
    create_user(client, scim_a, "anna@example.com", displayName="Anna Andersen", title="Chef")
    create_user(
        client,
        scim_a,
        "bert@example.org",
        displayName="Bert Bakker",
        **{ENTERPRISE: {"department": "Sales"}},
    )
    create_user(client, scim_a, "cees@example.com", displayName="Cees Claes", active=False)

    cases = {
        'userName eq "anna@example.com"': ["anna@example.com"],
        'userName ne "anna@example.com"': ["bert@example.org", "cees@example.com"],
        'userName co "EXAMPLE.COM"': ["anna@example.com", "cees@example.com"],
        'userName sw "b"': ["bert@example.org"],
        'userName ew ".org"': ["bert@example.org"],
        "title pr": ["anna@example.com"],
        "active eq false": ["cees@example.com"],
        'displayName gt "Bert"': ["bert@example.org", "cees@example.com"],
        'displayName le "Bert Bakker"': ["anna@example.com", "bert@example.org"],
        f'{ENTERPRISE}:department eq "sales"': ["bert@example.org"],
        'emails[type eq "work" and value co "anna"]': ["anna@example.com"],
        'emails[type eq "work"].value eq "cees@example.com"': ["cees@example.com"],
        'name.givenName eq "Barbara" and not (userName sw "a")': [
            "bert@example.org",
            "cees@example.com",
        ],
        'userName eq "anna@example.com" or externalId eq "bert"': [
            "anna@example.com",
            "bert@example.org",
        ],
        'meta.created gt "2000-01-01T00:00:00Z"': [
            "anna@example.com",
            "bert@example.org",
            "cees@example.com",
        ],
    }
    for expression, expected in cases.items():
        assert sorted(user_names(_filter(client, scim_a, expression))) == expected, expression


@pytest.mark.parametrize(
    "expression",
    [
        "userName eq",
        'userName zz "x"',
        '(userName eq "x"',
        "nickName eq 1",
        'foo eq "x"',
        'urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x"',
        # Escapes that spell what no database binds, and instants that overflow in UTC.
        'externalId eq "a\\ud800b"',
        'userName eq "a\\u0000b"',
        'meta.created gt "0001-01-01T00:00:00+05:00"',
        'meta.lastModified lt "9999-12-31T23:59:59-05:00"',
    ],
)
def test_a_bad_filter_is_refused_as_invalid_filter(client, org_a, org_b, scim_a, expression):
    response = _filter(client, scim_a, expression)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == SCIM_JSON
    assert response.json["scimType"] == "invalidFilter"


def test_pages_follow_a_stable_order_with_start_index_and_count(client, org_a, org_b, scim_a):
    ids = [create_user(client, scim_a, f"user{i}@example.com")["id"] for i in range(5)]
    seen = []
    for start in (1, 3, 5):
        page = client.get(f"{SCIM}/Users?startIndex={start}&count=2", headers=scim_a).json
        assert page["totalResults"] == 5
        assert page["startIndex"] == start
        seen += [r["id"] for r in page["Resources"]]
    assert seen == sorted(ids)
    only_total = client.get(f"{SCIM}/Users?count=0", headers=scim_a).json
    assert (only_total["totalResults"], only_total["Resources"]) == (5, [])
    beyond = client.get(f"{SCIM}/Users?startIndex=9&count=2", headers=scim_a).json
    assert (beyond["totalResults"], beyond["Resources"]) == (5, [])


def test_attributes_and_excluded_attributes_shape_the_answer(client, org_a, org_b, scim_a):
    user = create_user(client, scim_a, "shape@example.com", **{ENTERPRISE: {"department": "Ops"}})
    url = f"{SCIM}/Users/{user['id']}"
    only = client.get(
        f"{url}?attributes=userName,name.givenName,{ENTERPRISE}:department", headers=scim_a
    ).json
    assert only == {
        "schemas": [USER, ENTERPRISE],
        "id": user["id"],
        "userName": "shape@example.com",
        "name": {"givenName": "Barbara"},
        ENTERPRISE: {"department": "Ops"},
    }
    without = client.get(f"{url}?excludedAttributes=emails,name,meta", headers=scim_a).json
    assert {"emails", "name", "meta"}.isdisjoint(without)
    assert without["userName"] == "shape@example.com"


def test_post_search_finds_users_and_root_search_finds_users_and_groups(
    client, org_a, org_b, scim_a
):
    user = create_user(client, scim_a, "search@example.com")
    client.post(
        f"{SCIM}/Groups",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Searchers",
        },
        headers=scim_a,
    )
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName sw "search"',
        "attributes": ["userName"],
    }
    found = client.post(f"{SCIM}/Users/.search", json=body, headers=scim_a).json
    assert found["Resources"] == [
        {"schemas": [USER, ENTERPRISE], "id": user["id"], "userName": "search@example.com"}
    ]
    everything = client.post(
        f"{SCIM}/.search", json={"schemas": body["schemas"]}, headers=scim_a
    ).json
    assert everything["totalResults"] == 2
    by_name = client.post(
        f"{SCIM}/.search",
        json={**body, "filter": 'displayName eq "Searchers"', "attributes": None},
        headers=scim_a,
    ).json
    assert [r["displayName"] for r in by_name["Resources"]] == ["Searchers"]


def test_put_replaces_the_attributes_and_clears_those_left_out(client, org_a, org_b, scim_a):
    user = create_user(client, scim_a, "put@example.com", title="Old title")
    body = {
        "schemas": [USER],
        "userName": "put@example.com",
        "displayName": "Put Person",
        "active": True,
    }
    replaced = client.put(f"{SCIM}/Users/{user['id']}", json=body, headers=scim_a)
    assert replaced.status_code == 200
    assert replaced.json["displayName"] == "Put Person"
    assert {"title", "name", "emails", "externalId"}.isdisjoint(replaced.json)


def test_if_match_is_honoured_with_412_when_stale(client, org_a, org_b, scim_a):
    user = create_user(client, scim_a, "etag@example.com")
    url = f"{SCIM}/Users/{user['id']}"
    version = user["meta"]["version"]
    change = patch({"op": "replace", "path": "displayName", "value": "One"})
    first = client.patch(url, json=change, headers=scim_a | {"If-Match": version})
    assert first.status_code == 200
    assert first.json["meta"]["version"] != version
    stale = client.patch(url, json=change, headers=scim_a | {"If-Match": version})
    assert stale.status_code == 412
    assert stale.json["schemas"] == [ERROR]
    assert stale.headers["Content-Type"] == SCIM_JSON
    assert client.delete(url, headers=scim_a | {"If-Match": version}).status_code == 412


def test_a_taken_user_name_is_a_uniqueness_conflict(client, org_a, org_b, scim_a, scim_b):
    create_user(client, scim_a, "taken@example.com")
    again = client.post(
        f"{SCIM}/Users", json=new_user("TAKEN@example.com", externalId="other"), headers=scim_a
    )
    assert again.status_code == 409
    assert again.json["scimType"] == "uniqueness"
    # The same user name is free in another organisation.
    assert (
        client.post(f"{SCIM}/Users", json=new_user("taken@example.com"), headers=scim_b).status_code
        == 201
    )


def test_a_user_name_taken_by_a_concurrent_create_is_a_uniqueness_conflict(
    client, org_a, org_b, scim_a, scim_b, monkeypatch
):
    create_user(client, scim_a, "raced@example.com")
    # The loser checked before the winner committed: the unique index refuses its insert.
    monkeypatch.setattr(account_service, "check_unique", lambda *_args, **_kwargs: None)
    body = new_user("RACED@example.com", externalId="other")
    body["emails"][0]["value"] = "other@example.com"  # only the user name clashes
    again = client.post(f"{SCIM}/Users", json=body, headers=scim_a)
    assert again.status_code == 409
    assert again.headers["Content-Type"] == SCIM_JSON
    assert again.json["scimType"] == "uniqueness"
    assert "user_principal_name" in again.json["detail"]
    assert (
        client.post(f"{SCIM}/Users", json=new_user("raced@example.com"), headers=scim_b).status_code
        == 201
    )


def test_delete_is_the_soft_delete_and_the_user_is_gone_from_scim(
    client, org_a, org_b, auth, scim_a
):
    user = create_user(client, scim_a, "gone@example.com")
    url = f"{SCIM}/Users/{user['id']}"
    deleted = client.delete(url, headers=scim_a)
    assert deleted.status_code == 204
    assert client.get(url, headers=scim_a).status_code == 404
    assert client.delete(url, headers=scim_a).status_code == 404
    assert _filter(client, scim_a, 'userName eq "gone@example.com"').json["totalResults"] == 0
    (account,) = _accounts(client, org_a, auth, status="deleted")
    assert account["purge_after"] is not None
    # Restored over REST inside the grace period, it is a SCIM user again.
    client.post(
        f"/v1/organisations/{org_a.id}/accounts/{user['id']}/restore", headers=auth(org_a, ADMIN)
    )
    assert client.get(url, headers=scim_a).json["active"] is True


def test_a_disabled_account_is_still_returned_with_active_false(client, org_a, org_b, auth, scim_a):
    user = create_user(client, scim_a, "off@example.com")
    client.post(
        f"/v1/organisations/{org_a.id}/accounts/{user['id']}/disable", headers=auth(org_a, ADMIN)
    )
    assert client.get(f"{SCIM}/Users/{user['id']}", headers=scim_a).json["active"] is False


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        (new_user("long@example.com", displayName="x" * 300), "invalidValue"),
        (new_user("ctl@example.com", displayName="bad\u0007name"), "invalidValue"),
        (
            new_user("mgr@example.com", **{ENTERPRISE: {"manager": {"value": "not-an-id"}}}),
            "invalidValue",
        ),
        ({"schemas": [USER], "displayName": "no user name"}, None),
        ([1, 2], "invalidSyntax"),
    ],
)
def test_invalid_users_are_refused_with_a_scim_error(client, org_a, org_b, scim_a, body, scim_type):
    response = client.post(f"{SCIM}/Users", json=body, headers=scim_a)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == SCIM_JSON
    assert response.json["schemas"] == [ERROR]
    assert response.json["status"] == "400"
    if scim_type:
        assert response.json["scimType"] == scim_type
    assert _filter(client, scim_a, "userName pr").json["totalResults"] == 0


def test_protocol_errors_on_scim_routes_are_scim_errors(client, org_a, org_b, scim_a):
    cases = [
        (client.post(f"{SCIM}/Users", data="{", content_type=SCIM_JSON, headers=scim_a), 400),
        (client.post(f"{SCIM}/Users", data="x", content_type="text/plain", headers=scim_a), 415),
        (client.patch(f"{SCIM}/Users", json={}, headers=scim_a), 405),
        (client.get(f"{SCIM}/Users/{quote('not an id')}", headers=scim_a), 404),
        (client.get(f"{SCIM}/Nowhere", headers=scim_a), 404),
        (client.get(f"{SCIM}/Users?count=many", headers=scim_a), 400),
    ]
    for response, status in cases:
        assert response.status_code == status
        assert response.headers["Content-Type"] == SCIM_JSON
        assert response.json["schemas"] == [ERROR]
        assert response.json["status"] == str(status)
    assert cases[0][0].json["scimType"] == "invalidSyntax"


def test_a_manager_must_be_a_live_account_of_the_organisation(client, org_a, org_b, scim_a, scim_b):
    boss = create_user(client, scim_b, "boss@example.com")
    refused = client.post(
        f"{SCIM}/Users",
        json=new_user("worker@example.com", **{ENTERPRISE: {"manager": {"value": boss["id"]}}}),
        headers=scim_a,
    )
    assert refused.status_code == 400
    assert refused.json["scimType"] == "invalidValue"
    assert "manager" in refused.json["detail"]
