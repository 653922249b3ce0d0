"""SCIM fixtures: a SCIM token of each organisation, made through the REST API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import Org

SCIM = "/scim/v2"
SCIM_JSON = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"

Headers = dict[str, str]


@pytest.fixture
def create_scim_token(
    client: FlaskClient, auth: Callable[..., Headers]
) -> Callable[..., dict[str, Any]]:
    """POST …/scim-tokens as the organisation's admin; the 201 body (with `token`)."""

    def _create(org: Org, description: str = "Entra ID provisioning", **extra: Any) -> Any:
        response = client.post(
            f"/v1/organisations/{org.id}/scim-tokens",
            json={"description": description, **extra},
            headers=auth(org, "Organisation.Admin"),
        )
        assert response.status_code == 201, response.json
        return response.json

    return _create


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def scim_a(org_a: Org, create_scim_token: Callable[..., dict[str, Any]]) -> Headers:
    return bearer(create_scim_token(org_a)["token"])


@pytest.fixture
def scim_b(org_b: Org, create_scim_token: Callable[..., dict[str, Any]]) -> Headers:
    return bearer(create_scim_token(org_b)["token"])


def new_user(user_name: str = "bjensen@example.com", **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [USER, ENTERPRISE],
        "userName": user_name,
        "externalId": extra.pop("externalId", user_name.split("@", maxsplit=1)[0]),
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Barbara Jensen",
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
        **extra,
    }


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def create_user(client: FlaskClient, headers: Headers, user_name: str, **extra: Any) -> Any:
    response = client.post(f"{SCIM}/Users", json=new_user(user_name, **extra), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def create_group(client: FlaskClient, headers: Headers, name: str, *members: str) -> Any:
    body = {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
    response = client.post(f"{SCIM}/Groups", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def user_names(response: Any) -> list[str]:
    assert response.status_code == 200, response.json
    return [r["userName"] for r in response.json["Resources"]]
