"""The account list: keyset pages in both sorts and orders, filters, search, other organisation."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from facito_admin.accounts.models import AccountSource, AccountStatus
from tests.api.accounts.helpers import accounts_url, list_all
from tests.conftest import Org
from tests.factories.accounts import insert_accounts, make_account

READER = "Organisation.Reader"
NAMES = ["delta", "Alpha", "charlie", "Bravo", "echo", "alpha", "Charlie", "Foxtrot", "golf"]


@pytest.fixture
def many(runtime, org_a: Org, org_b: Org) -> list:
    """23 accounts in A whose display names repeat in different case; 3 in B."""
    names = [f"{NAMES[i % len(NAMES)]} {i // len(NAMES)}" for i in range(23)]
    ids = insert_accounts(runtime, org_a.id, names)
    insert_accounts(runtime, org_b.id, ["Alpha B", "Bravo B", "Charlie B"])
    return list(zip(names, ids, strict=True))


@pytest.mark.parametrize("limit", [1, 5, 7, 23, 200])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sort_by_creation_pages_through_every_account_once(
    client, many, org_a: Org, auth, limit, order
):
    items = list_all(client, accounts_url(org_a), auth(org_a, READER), limit=limit, order=order)
    ids = [str(account_id) for _, account_id in many]
    assert [item["id"] for item in items] == (ids if order == "asc" else ids[::-1])


@pytest.mark.parametrize("limit", [1, 4, 10, 50])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sort_by_name_is_case_insensitive_and_stable_across_pages(
    client, many, org_a: Org, auth, limit, order
):
    items = list_all(
        client, accounts_url(org_a), auth(org_a, READER), limit=limit, sort="name", order=order
    )
    expected = sorted(many, key=lambda pair: (pair[0].casefold(), str(pair[1])))
    if order == "desc":
        expected.reverse()
    assert [(i["display_name"], i["id"]) for i in items] == [(n, str(i)) for n, i in expected]


def test_the_other_organisations_list_never_contains_these_accounts(
    client, many, org_a: Org, org_b: Org, auth
):
    items = list_all(client, accounts_url(org_b), auth(org_b, READER), limit=2)
    assert sorted(i["display_name"] for i in items) == ["Alpha B", "Bravo B", "Charlie B"]
    assert {i["organisation_id"] for i in items} == {str(org_b.id)}
    assert client.get(accounts_url(org_a), headers=auth(org_b, READER)).status_code == 404


def test_the_link_header_keeps_the_filters_and_gives_the_next_cursor(
    client, many, org_a: Org, auth
):
    reader = auth(org_a, READER)
    response = client.get(
        accounts_url(org_a), query_string={"limit": 2, "sort": "name", "q": "a"}, headers=reader
    )
    link = response.headers["Link"]
    assert "sort=name" in link and "q=a" in link and "limit=2" in link
    assert f"cursor={response.get_json()['next_cursor']}" in link
    following = client.get(link.split(">")[0].removeprefix("<"), headers=reader)
    assert following.status_code == 200
    assert following.get_json()["items"][0]["id"] != response.get_json()["items"][0]["id"]


def test_filters_narrow_the_list(client, runtime, org_a: Org, auth):
    insert_accounts(runtime, org_a.id, ["Graph One", "Graph Two"], source=AccountSource.graph)
    insert_accounts(runtime, org_a.id, ["Sales One"], department="Sales")
    insert_accounts(runtime, org_a.id, ["Off One"], status=AccountStatus.disabled)
    make_account(runtime, org_a.id, "scim", source=AccountSource.scim, department="Sales")
    reader = auth(org_a, READER)

    def names(**params) -> list[str]:
        return sorted(
            i["display_name"] for i in list_all(client, accounts_url(org_a), reader, **params)
        )

    assert names(source="graph") == ["Graph One", "Graph Two"]
    assert names(source="scim") == ["User scim"]
    assert names(department="Sales") == ["Sales One", "User scim"]
    assert names(department="sales") == []
    assert names(status="disabled") == ["Off One"]
    assert names(status="active", department="Sales", sort="name") == ["Sales One", "User scim"]
    assert names(source="manual", status="disabled") == ["Off One"]
    assert len(names()) == 5


def test_deleted_accounts_are_listed_only_when_asked_for(client, runtime, org_a: Org, auth):
    insert_accounts(runtime, org_a.id, ["Live"])
    gone = make_account(runtime, org_a.id, "gone")
    admin = auth(org_a, "Organisation.Admin")
    url = accounts_url(org_a, f"/{gone.id}")
    tag = client.get(url, headers=admin).headers["ETag"]
    assert client.delete(url, headers=admin | {"If-Match": tag}).status_code == 200
    assert [i["display_name"] for i in list_all(client, accounts_url(org_a), admin)] == ["Live"]
    deleted = list_all(client, accounts_url(org_a), admin, status="deleted")
    assert [i["id"] for i in deleted] == [str(gone.id)]


def test_search_matches_name_email_or_upn_case_insensitively(client, runtime, org_a, auth):
    make_account(
        runtime,
        org_a.id,
        "1",
        display_name="Jan Straße",
        email="jan@one.example",
        user_principal_name="jan.s@corp.example",
    )
    make_account(
        runtime,
        org_a.id,
        "2",
        display_name="Piet",
        email="PIET@Two.Example",
        user_principal_name="p.two@corp.example",
    )
    make_account(
        runtime,
        org_a.id,
        "3",
        display_name="Kees",
        email=None,
        user_principal_name="KEES.100%@corp.example",
    )
    make_account(
        runtime,
        org_a.id,
        "4",
        display_name="Kees_Junior",
        email=None,
        user_principal_name="kj@corp.example",
    )
    reader = auth(org_a, READER)

    def found(q: str) -> list[str]:
        items = list_all(client, accounts_url(org_a), reader, q=q, sort="name")
        return [i["display_name"] for i in items]

    assert found("STRASSE") == ["Jan Straße"]
    assert found("two.example") == ["Piet"]
    assert found("CORP.example") == ["Jan Straße", "Kees", "Kees_Junior", "Piet"]
    assert found("100%") == ["Kees"]
    assert found("%") == ["Kees"]
    assert found("s_j") == ["Kees_Junior"]
    assert found("_") == ["Kees_Junior"]
    assert found("nobody") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"sort": "email"}, "sort"),
        ({"order": "up"}, "order"),
        ({"status": "gone"}, "status"),
        ({"source": "ldap"}, "source"),
        ({"q": "x" * 101}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "  "}, "q"),
        ({"department": "\x07"}, "department"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_list_arguments_are_422(client, org_a: Org, auth, params, field):
    response = client.get(accounts_url(org_a), query_string=params, headers=auth(org_a, READER))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_a_cursor_of_one_sort_is_refused_by_the_other(client, many, org_a: Org, auth):
    reader = auth(org_a, READER)
    page = client.get(accounts_url(org_a), query_string={"limit": 2}, headers=reader).get_json()
    response = client.get(
        accounts_url(org_a),
        query_string={"limit": 2, "sort": "name", "cursor": page["next_cursor"]},
        headers=reader,
    )
    assert response.status_code == 422


def test_a_page_costs_one_query_of_the_accounts_table_whatever_its_size(
    client, many, runtime, org_a: Org, auth
):
    reader = auth(org_a, READER)
    statements: list[str] = []

    def _record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(runtime.database.engine, "before_cursor_execute", _record)
    try:
        counts = []
        for limit in (2, 20):
            statements.clear()
            response = client.get(
                accounts_url(org_a), query_string={"limit": limit, "sort": "name"}, headers=reader
            )
            assert len(response.get_json()["items"]) == limit
            counts.append(sum("FROM accounts" in " ".join(s.split()) for s in statements))
    finally:
        event.remove(runtime.database.engine, "before_cursor_execute", _record)
    assert counts == [1, 1]
