"""SCIM requests are bounded: PATCH operations, filter terms, paging values and body size."""

from __future__ import annotations

import http.client
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import g
from scim2_models import Context, PatchOp
from scim2_models.base import BaseModel

from facito_admin.runtime import Runtime
from facito_admin.scim import users
from tests.api.scim.conftest import (
    ERROR,
    GROUP,
    SCIM,
    SCIM_JSON,
    create_group,
    create_user,
    new_user,
    patch,
    user_names,
)

SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
# The published bounds (README, SCIM section).
MAX_OPERATIONS = 1000
MAX_TERMS = 200


def _renames(count: int) -> dict[str, Any]:
    return patch(
        *({"op": "replace", "path": "displayName", "value": f"Name {i}"} for i in range(count))
    )


def _is_scim_error(response: Any, status: int, scim_type: str) -> None:
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == SCIM_JSON
    assert response.json["schemas"] == [ERROR]
    assert response.json["status"] == str(status)
    assert response.json["scimType"] == scim_type


# --- PATCH operations -----------------------------------------------------------------


def test_a_patch_of_more_than_1000_operations_is_refused_as_too_many(
    client, org_a, org_b, scim_a, scim_b
):
    user = create_user(client, scim_a, "many@example.com")
    group = create_group(client, scim_a, "Many")
    other = create_user(client, scim_b, "many@example.com")
    for url in (f"{SCIM}/Users/{user['id']}", f"{SCIM}/Groups/{group['id']}"):
        response = client.patch(url, json=_renames(MAX_OPERATIONS + 1), headers=scim_a)
        _is_scim_error(response, 413, "tooMany")
        assert str(MAX_OPERATIONS) in response.json["detail"]
    assert client.get(f"{SCIM}/Users/{user['id']}", headers=scim_a).json == user
    assert client.get(f"{SCIM}/Groups/{group['id']}", headers=scim_a).json == group
    assert client.get(f"{SCIM}/Users/{other['id']}", headers=scim_b).json == other


def test_a_patch_of_1000_operations_is_applied(client, org_a, org_b, scim_a, scim_b):
    user = create_user(client, scim_a, "most@example.com")
    group = create_group(client, scim_a, "Most")
    other = create_user(client, scim_b, "most@example.com")
    last = f"Name {MAX_OPERATIONS - 1}"

    patched = client.patch(
        f"{SCIM}/Users/{user['id']}", json=_renames(MAX_OPERATIONS), headers=scim_a
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["displayName"] == last
    patched = client.patch(
        f"{SCIM}/Groups/{group['id']}", json=_renames(MAX_OPERATIONS), headers=scim_a
    )
    assert patched.status_code == 204
    assert client.get(f"{SCIM}/Groups/{group['id']}", headers=scim_a).json["displayName"] == last
    assert client.get(f"{SCIM}/Users/{other['id']}", headers=scim_b).json == other


_REQUEST_BODIES = frozenset(
    {
        Context.RESOURCE_CREATION_REQUEST,
        Context.RESOURCE_REPLACEMENT_REQUEST,
        Context.RESOURCE_PATCH_REQUEST,
    }
)


# db/session.py notes a flush of the transaction under this key.
_FLUSHED = "flushed_in_transaction"


def _another_writer_could_begin(runtime: Runtime) -> bool:
    """SQLite: whether the request's session holds no transaction and the write lock is free.

    PostgreSQL locks rows, not the database: there the request's transaction may have begun
    (its token is read in it, scim/auth.py), but it must have written nothing yet.
    """
    session = g.get("db_session")
    if not runtime.database.is_sqlite:
        return session is None or not (
            session.new or session.dirty or session.deleted or session.info.get(_FLUSHED)
        )
    if session is not None and session.in_transaction():
        return False
    # Another connection, as another organisation's request would open it (db/session.py).
    other = sqlite3.connect(
        runtime.database.engine.url.database or "", timeout=5, isolation_level=None
    )
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()
    return True


@pytest.fixture
def lock_while_parsing(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Before and after each request body is validated: could another writer begin?"""
    seen: list[bool] = []
    validate = BaseModel.model_validate.__func__

    def spy(cls: type[BaseModel], *args: Any, **kwargs: Any) -> Any:
        # The body of a request, not a resource read back from the database (resources.py).
        body = kwargs.get("scim_ctx") in _REQUEST_BODIES and (
            issubclass(cls, PatchOp) or kwargs["scim_ctx"] != Context.RESOURCE_PATCH_REQUEST
        )
        if body:
            seen.append(_another_writer_could_begin(runtime))
        found = validate(cls, *args, **kwargs)
        if body:
            seen.append(_another_writer_could_begin(runtime))
        return found

    monkeypatch.setattr(BaseModel, "model_validate", classmethod(spy))
    return seen


def test_another_organisation_could_write_while_a_maximal_patch_is_parsed(
    client, org_a, org_b, scim_a, scim_b, lock_while_parsing
):
    user = create_user(client, scim_a, "parsed@example.com")
    group = create_group(client, scim_a, "Parsed")
    other = create_user(client, scim_b, "parsed@example.com")
    lock_while_parsing.clear()

    patched = client.patch(
        f"{SCIM}/Users/{user['id']}", json=_renames(MAX_OPERATIONS), headers=scim_a
    )
    assert patched.status_code == 200
    patched = client.patch(
        f"{SCIM}/Groups/{group['id']}", json=_renames(MAX_OPERATIONS), headers=scim_a
    )
    assert patched.status_code == 204

    assert lock_while_parsing == [True] * 4
    assert client.get(f"{SCIM}/Users/{other['id']}", headers=scim_b).json == other


def test_put_and_post_bodies_are_parsed_before_the_write_lock_is_taken(
    client, org_a, org_b, scim_a, scim_b, lock_while_parsing
):
    user = create_user(client, scim_a, "put@example.com")
    group = create_group(client, scim_a, "Put")
    group_body = {"schemas": [GROUP], "displayName": "Replaced"}
    requests = [
        client.put(f"{SCIM}/Users/{user['id']}", json=new_user("put@example.com"), headers=scim_a),
        client.put(f"{SCIM}/Groups/{group['id']}", json=group_body, headers=scim_a),
        client.post(f"{SCIM}/Users", json=new_user("post@example.com"), headers=scim_b),
        client.post(f"{SCIM}/Groups", json=group_body, headers=scim_b),
    ]

    assert [r.status_code for r in requests] == [200, 200, 201, 201]
    assert lock_while_parsing
    assert all(lock_while_parsing)


def test_the_readme_publishes_the_bounds_scim_enforces():
    readme = " ".join((Path(__file__).parents[3] / "README.md").read_text("utf-8").split())
    assert f"PATCH carries at most {MAX_OPERATIONS:,} operations" in readme
    assert f"filter has at most {MAX_TERMS} terms" in readme


# --- filters ---------------------------------------------------------------------------


def _terms(count: int, joiner: str, term: Callable[[int], str]) -> str:
    return f" {joiner} ".join(term(i) for i in range(count))


def _search(client, headers, path: str, expression: str) -> Any:
    body = {"schemas": [SEARCH_REQUEST], "filter": expression}
    return client.post(f"{SCIM}{path}/.search", json=body, headers=headers)


@pytest.mark.parametrize("terms", [MAX_TERMS + 1, 500, 20_000])
def test_a_filter_of_more_than_200_terms_is_an_invalid_filter(
    client, org_a, org_b, scim_a, scim_b, terms
):
    create_user(client, scim_a, "terms@example.com")
    expression = _terms(terms, "and", lambda _: 'userName eq "terms@example.com"')
    responses = [
        _search(client, scim_a, "/Users", expression),
        _search(client, scim_b, "/Groups", expression.replace("userName", "displayName")),
        _search(client, scim_a, "", expression),
    ]
    if terms < 1000:  # servers refuse a longer request line before the app sees it
        responses.append(
            client.get(f"{SCIM}/Users", query_string={"filter": expression}, headers=scim_a)
        )
    for response in responses:
        _is_scim_error(response, 400, "invalidFilter")
        assert str(MAX_TERMS) in response.json["detail"]


def test_a_filter_of_200_terms_runs_on_every_database(client, org_a, org_b, scim_a, scim_b):
    user = create_user(client, scim_a, "t199@example.com")
    create_user(client, scim_b, "t199@example.com")
    group = create_group(client, scim_a, "Terms", user["id"])
    create_group(client, scim_b, "Terms")
    # The deepest SQL each term makes: case-folded ne, exists() over the members, value paths.
    anything = _terms(MAX_TERMS, "or", lambda i: f'userName eq "t{i}@example.com"')
    everything = _terms(MAX_TERMS // 2, "and", lambda i: f'title ne "t{i}" and userName pr')
    within = _terms(MAX_TERMS // 2, "and", lambda _: 'emails[type eq "work" and value co "t1"]')
    members = _terms(MAX_TERMS, "and", lambda _: f'members eq "{user["id"]}"')
    # Text inside a string is no term.
    quoted = _terms(MAX_TERMS - 1, "or", lambda _: 'title eq "x eq y or z pr"')

    assert everything.count(" pr") + everything.count(" ne ") == MAX_TERMS
    for expression in (anything, within, f"{quoted} or userName pr"):
        found = client.get(f"{SCIM}/Users", query_string={"filter": expression}, headers=scim_a)
        assert user_names(found) == ["t199@example.com"]
    found = _search(client, scim_a, "/Users", everything)
    assert user_names(found) == ["t199@example.com"]
    found = _search(client, scim_a, "/Groups", members)
    assert [r["id"] for r in found.json["Resources"]] == [group["id"]]
    assert _search(client, scim_b, "/Groups", members).json["totalResults"] == 0
    assert _search(client, scim_a, "", anything).json["totalResults"] == 1


# --- startIndex and count ----------------------------------------------------------------


def test_a_start_index_beyond_every_result_gives_an_empty_page(
    client, org_a, org_b, scim_a, scim_b
):
    create_user(client, scim_a, "far@example.com")
    create_group(client, scim_b, "Far")
    huge = 10**23 - 1
    pages = [
        client.get(f"{SCIM}/Users?startIndex={huge}", headers=scim_a),
        client.get(f"{SCIM}/Groups?startIndex={huge}&count=5", headers=scim_b),
        _paged(client, scim_a, "/Users", {"startIndex": huge}),
        _paged(client, scim_b, "", {"startIndex": huge, "count": huge}),
    ]
    for page in pages:
        assert page.status_code == 200, page.json
        assert page.json["totalResults"] == 1
        assert page.json["Resources"] == []
        assert 1 < page.json["startIndex"] < huge


def _paged(client, headers, path: str, paging: dict[str, Any]) -> Any:
    return client.post(
        f"{SCIM}{path}/.search", json={"schemas": [SEARCH_REQUEST], **paging}, headers=headers
    )


def _paged_raw(client, headers, path: str, raw: str) -> Any:
    body = f'{{"schemas": ["{SEARCH_REQUEST}"], {raw}}}'
    return client.post(f"{SCIM}{path}/.search", data=body, content_type=SCIM_JSON, headers=headers)


def test_a_start_index_below_one_is_one_and_a_negative_count_is_zero(
    client, org_a, org_b, scim_a, scim_b
):
    create_user(client, scim_a, "low@example.com")
    create_user(client, scim_b, "low@example.com")
    for headers in (scim_a, scim_b):
        low = client.get(f"{SCIM}/Users?startIndex=-99999999999999999999999", headers=headers)
        assert (low.json["startIndex"], user_names(low)) == (1, ["low@example.com"])
        zero = _paged(client, headers, "/Users", {"startIndex": 0, "count": -(10**23)})
        assert (zero.json["startIndex"], zero.json["totalResults"]) == (1, 1)
        assert zero.json["Resources"] == []


@pytest.mark.parametrize("name", ["startIndex", "count"])
@pytest.mark.parametrize("value", ["1.5", "true", "1e3", "0x10", " 1", "1_000", "\u0661", "many"])
def test_paging_values_in_a_query_must_be_decimal_integers(
    client, org_a, org_b, scim_a, scim_b, name, value
):
    for headers, path in ((scim_a, "/Users"), (scim_b, "/Groups")):
        response = client.get(f"{SCIM}{path}", query_string={name: value}, headers=headers)
        _is_scim_error(response, 400, "invalidValue")
        assert name in response.json["detail"]


@pytest.mark.parametrize("name", ["startIndex", "count"])
@pytest.mark.parametrize("value", ["1e400", "-1e400", "1.5", "1.0", "true", '"1"', "[1]"])
def test_paging_values_in_a_search_must_be_json_integers(
    client, org_a, org_b, scim_a, scim_b, name, value
):
    for headers, path in ((scim_a, "/Users"), (scim_b, "/Groups"), (scim_a, "")):
        response = _paged_raw(client, headers, path, f'"{name}": {value}')
        _is_scim_error(response, 400, "invalidValue")
        assert name in response.json["detail"]


# --- body size -----------------------------------------------------------------------------


def _chunked_post(
    port: int, path: str, headers: dict[str, str], body: bytes, content_type: str = SCIM_JSON
) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    step = 64 * 1024
    try:
        connection.request(
            "POST",
            path,
            body=(body[i : i + step] for i in range(0, len(body), step)),
            headers=headers | {"Content-Type": content_type, "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, (response.getheader("Content-Type"), json.loads(response.read()))
    finally:
        connection.close()


def _padded(body: dict[str, Any], size: int) -> bytes:
    """``body`` with a last attribute that pads it to ``size`` bytes of JSON."""
    encoded = json.dumps({**body, "padding": ""}).encode()
    return encoded[:-2] + b"x" * (size - len(encoded)) + b'"}'


def test_a_chunked_scim_body_over_the_limit_is_refused_with_413(
    app, client, served, org_a, org_b, scim_a, scim_b
):
    limit = app.config["MAX_CONTENT_LENGTH"]
    # A body of exactly the limit is read whole (and the unknown attribute dropped).
    whole = _chunked_post(served, f"{SCIM}/Users", scim_a, _padded(new_user(), limit))
    assert whole[0] == 201

    status, (content_type, body) = _chunked_post(
        served, f"{SCIM}/Users", scim_b, _padded(new_user(), limit + 64 * 1024)
    )
    assert (status, content_type) == (413, SCIM_JSON)
    assert body["schemas"] == [ERROR]
    assert body["status"] == "413"
    assert client.get(f"{SCIM}/Users", headers=scim_a).json["totalResults"] == 1
    assert client.get(f"{SCIM}/Users", headers=scim_b).json["totalResults"] == 0


def test_a_chunked_rest_body_over_the_limit_is_refused_with_413(
    app, client, served, org_a, org_b, auth
):
    limit = app.config["MAX_CONTENT_LENGTH"]
    admin = auth(org_b, "Organisation.Admin")
    path = f"/v1/organisations/{org_b.id}/accounts"
    status, (content_type, body) = _chunked_post(
        served, path, admin, _padded({}, limit + 64 * 1024), "application/json"
    )
    assert (status, content_type) == (413, "application/problem+json")
    assert body["status"] == 413
    assert body["instance"] == path
    for org in (org_a, org_b):
        listed = client.get(
            f"/v1/organisations/{org.id}/accounts", headers=auth(org, "Organisation.Admin")
        )
        assert listed.json["items"] == []


def test_a_search_sent_as_post_reads_without_taking_the_write_lock(
    client, runtime, org_a, org_b, scim_a, scim_b, monkeypatch: pytest.MonkeyPatch
):
    create_user(client, scim_a, "searched@example.com")
    could_write: list[bool] = []
    search = users.list_users

    def spy(*args: Any, **kwargs: Any) -> Any:
        found = search(*args, **kwargs)
        # The search's transaction is open here: another writer must still get in.
        could_write.append(_another_connection_could_write(runtime))
        return found

    monkeypatch.setattr(users, "list_users", spy)
    search_request = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
    body = {"schemas": [search_request], "filter": 'userName eq "searched@example.com"'}
    found = client.post(f"{SCIM}/Users/.search", json=body, headers=scim_a)
    assert found.status_code == 200
    assert found.json["totalResults"] == 1
    assert could_write and all(could_write)
    # The other organisation's search finds nothing of it.
    other = client.post(f"{SCIM}/Users/.search", json=body, headers=scim_b)
    assert other.json["totalResults"] == 0


def _another_connection_could_write(runtime: Runtime) -> bool:
    if not runtime.database.is_sqlite:
        return True  # PostgreSQL has no database-wide write lock
    path = runtime.database.engine.url.database or ""
    other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()
    return True
