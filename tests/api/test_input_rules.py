"""Input fields take what the OpenAPI document says, and problems name the API's own fields."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from tests.api.policies.helpers import DPO, URL, draft_body
from tests.conftest import Org

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"


def _error_fields(response: Any) -> set[str]:
    return {error["field"] for error in response.get_json().get("errors", [])}


def _schedule_url(org: Org) -> str:
    return f"/v1/organisations/{org.id}/directory-syncs/federations/{uuid.uuid4()}"


def _webhook_url(org: Org, endpoint_id: uuid.UUID | None = None) -> str:
    suffix = f"/{endpoint_id}" if endpoint_id else ""
    return f"/v1/organisations/{org.id}/webhook-endpoints{suffix}"


# 1. Booleans and integers: JSON types in bodies, canonical text in query strings.


@pytest.mark.parametrize("value", [0, 1, "true", "yes", "on"])
def test_a_boolean_in_a_body_is_only_json_true_or_false(
    client: FlaskClient, org_a: Org, auth: Auth, value: Any
):
    headers = auth(org_a, ADMIN)
    refused = client.patch(_schedule_url(org_a), json={"enabled": value}, headers=headers)
    assert refused.status_code == 422
    assert _error_fields(refused) == {"enabled"}
    # A real boolean passes the schema and reaches the lookup of the (unknown) federation.
    assert (
        client.patch(_schedule_url(org_a), json={"enabled": False}, headers=headers).status_code
        == 404
    )


@pytest.mark.parametrize("value", ["30", 45.0, 30.5, True, "1e2"])
def test_an_integer_in_a_body_is_only_a_json_integer(
    client: FlaskClient, org_a: Org, auth: Auth, value: Any
):
    headers = auth(org_a, ADMIN)
    refused = client.patch(_schedule_url(org_a), json={"interval_minutes": value}, headers=headers)
    assert refused.status_code == 422
    assert _error_fields(refused) == {"interval_minutes"}
    accepted = client.patch(_schedule_url(org_a), json={"interval_minutes": 30}, headers=headers)
    assert accepted.status_code == 404


def test_every_body_boolean_refuses_numbers_and_strings(
    client: FlaskClient, org_a: Org, auth: Auth
):
    admin = auth(org_a, ADMIN)
    webhook = {"url": "https://hooks.example.test/", "event_types": ["policy.contract_changed"]}
    response = client.post(_webhook_url(org_a), json=webhook | {"enabled": 0}, headers=admin)
    assert (response.status_code, _error_fields(response)) == (422, {"enabled"})

    account = {"user_principal_name": "kees@org-a.example", "display_name": "Kees"}
    accounts = f"/v1/organisations/{org_a.id}/accounts"
    response = client.post(accounts, json=account | {"is_minor": "yes"}, headers=admin)
    assert (response.status_code, _error_fields(response)) == (422, {"is_minor"})

    draft = draft_body("strict", utcnow() + timedelta(days=1))
    draft["changes"][0]["material"] = 1
    response = client.post(URL, json=draft, headers=auth(None, DPO))
    assert (response.status_code, _error_fields(response)) == (422, {"changes.0.material"})


@pytest.mark.parametrize("text", ["yes", "1", "True", "TRUE", "on", ""])
def test_a_boolean_in_the_query_is_only_the_text_true_or_false(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth, text: str
):
    headers = auth(org_a, ADMIN)
    for path, name in (
        ("/v1/products", "preview"),
        (f"/v1/organisations/{org_a.id}/notices", "acknowledged"),
        (f"/v1/organisations/{org_a.id}/accounts/{uuid.uuid4()}/products", "active"),
    ):
        refused = client.get(path, query_string={name: text}, headers=headers)
        assert (refused.status_code, _error_fields(refused)) == (422, {name}), path
    for canonical in ("true", "false"):
        answered = client.get("/v1/products", query_string={"preview": canonical}, headers=headers)
        assert answered.status_code == 200
        notices = f"/v1/organisations/{org_a.id}/notices?acknowledged={canonical}"
        assert client.get(notices, headers=headers).status_code == 200


@pytest.mark.parametrize("text", ["+5", "5.0", "1e1", "true", " 5", "\u0665", ""])
def test_an_integer_in_the_query_is_only_decimal_digits(
    client: FlaskClient, org_a: Org, auth: Auth, text: str
):
    headers = auth(org_a, ADMIN)
    accounts = f"/v1/organisations/{org_a.id}/accounts"
    refused = client.get(accounts, query_string={"limit": text}, headers=headers)
    assert (refused.status_code, _error_fields(refused)) == (422, {"limit"})
    for digits in ("5", "05", "200"):
        assert (
            client.get(accounts, query_string={"limit": digits}, headers=headers).status_code == 200
        )
