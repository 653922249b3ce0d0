"""URLs and small readers shared by the account API tests."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from tests.api.organisations.helpers import actions
from tests.conftest import Org


def accounts_url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/accounts{suffix}"


def account_url(org: Org, account_id: uuid.UUID | str, suffix: str = "") -> str:
    return accounts_url(org, f"/{account_id}{suffix}")


def products_url(org: Org, account_id: uuid.UUID | str, code: str = "") -> str:
    return account_url(org, account_id, f"/products/{code}" if code else "/products")


def create(client: FlaskClient, org: Org, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(accounts_url(org), json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def etag(client: FlaskClient, org: Org, account_id: str, headers: dict[str, str]) -> str:
    response = client.get(account_url(org, account_id), headers=headers)
    assert response.status_code == 200, response.get_json()
    return str(response.headers["ETag"])


def new_actions(runtime: Runtime, org: Org, before: list[str]) -> list[str]:
    """The audit actions recorded since ``before`` was read."""
    after = actions(runtime, org.id)
    assert after[: len(before)] == before
    return after[len(before) :]


def list_all(client: FlaskClient, url: str, headers: dict[str, str], **params: Any) -> list[dict]:
    """Every item of a keyset list, following next_cursor; checks the Link header too."""
    items: list[dict] = []
    cursor = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = client.get(url, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            return items
        assert 'rel="next"' in response.headers["Link"]
