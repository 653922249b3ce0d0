"""SCIM requests are bounded: PATCH operations, filter terms, paging values and body size."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from flask import g
from scim2_models import Context, PatchOp
from scim2_models.base import BaseModel

from facito_admin.db.session import Database
from tests.api.scim.conftest import (
    ERROR,
    GROUP,
    SCIM,
    SCIM_JSON,
    create_group,
    create_user,
    new_user,
    patch,
)

MAX_OPERATIONS = 1000


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


def _another_writer_could_begin(database: Database) -> bool:
    """Whether the request's session holds no transaction and (SQLite) the write lock is free."""
    session = g.get("db_session")
    if session is not None and session.in_transaction():
        return False
    if not database.is_sqlite:
        return True
    # Another connection, as another organisation's request would open it (db/session.py).
    other = sqlite3.connect(database.engine.url.database or "", timeout=5, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()
    return True


@pytest.fixture
def lock_while_parsing(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Before and after each request body is validated: could another writer begin?"""
    seen: list[bool] = []
    validate = BaseModel.model_validate.__func__

    def spy(cls: type[BaseModel], *args: Any, **kwargs: Any) -> Any:
        # The body of a request, not a resource read back from the database (resources.py).
        body = kwargs.get("scim_ctx") in _REQUEST_BODIES and (
            issubclass(cls, PatchOp) or kwargs["scim_ctx"] != Context.RESOURCE_PATCH_REQUEST
        )
        if body:
            seen.append(_another_writer_could_begin(database))
        found = validate(cls, *args, **kwargs)
        if body:
            seen.append(_another_writer_could_begin(database))
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
