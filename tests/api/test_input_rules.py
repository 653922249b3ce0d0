"""Input fields take what the OpenAPI document says, and problems name the API's own fields."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from tests.api.contracts.helpers import contract_body, contracts_url
from tests.api.policies.helpers import DPO, URL, draft_body
from tests.conftest import Org

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"
OPERATOR = "Facito.Operator"
DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


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


# 3. One bound for every instant and day the API takes.


@pytest.mark.parametrize(
    "instant",
    [
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:59:59+01:00",
        "9000-01-01T00:00:01Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_both_at_routes_refuse_the_same_instants(
    client: FlaskClient, org_a: Org, auth: Auth, instant: str
):
    headers = auth(org_a, ADMIN)
    for path in (f"{URL}/in-force", f"/v1/organisations/{org_a.id}/effective-policy"):
        refused = client.get(path, query_string={"at": instant}, headers=headers)
        assert (refused.status_code, _error_fields(refused)) == (422, {"at"}), path


@pytest.mark.parametrize("instant", ["1970-01-01T00:00:00Z", "9000-01-01T00:00:00Z"])
def test_both_at_routes_take_the_instants_at_the_bounds(
    client: FlaskClient, org_a: Org, auth: Auth, instant: str
):
    headers = auth(org_a, ADMIN)
    in_force = client.get(f"{URL}/in-force", query_string={"at": instant}, headers=headers)
    # 1970: no statement yet (404); 9000: the seeded 2019 statement is still in force.
    assert in_force.status_code in (200, 404)
    effective = f"/v1/organisations/{org_a.id}/effective-policy"
    assert client.get(effective, query_string={"at": instant}, headers=headers).status_code == 200


def test_both_at_routes_document_the_same_bound():
    paths = json.loads(DOCUMENT.read_text(encoding="utf-8"))["paths"]
    documented = []
    for path in ("/v1/privacy-statements/in-force", "/v1/organisations/{org_id}/effective-policy"):
        (at,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "at"]
        documented.append((at["schema"]["x-minimum"], at["schema"]["x-maximum"]))
        assert "From 1970-01-01T00:00:00Z to 9000-01-01T00:00:00Z." in at["description"]
    assert documented == [("1970-01-01T00:00:00+00:00", "9000-01-01T00:00:00+00:00")] * 2


def test_contract_instants_and_days_have_the_same_bound(
    client: FlaskClient, org_a: Org, auth: Auth
):
    operator = auth(None, OPERATOR)
    for field, value in (
        ("effective_from", "1969-12-31T23:59:59Z"),
        ("effective_to", "9000-01-01T00:00:01Z"),
        ("signed_on", "1969-12-31"),
        ("signed_on", "9000-01-02"),
    ):
        body = contract_body() | {field: value}
        refused = client.post(contracts_url(org_a), json=body, headers=operator)
        assert (refused.status_code, _error_fields(refused)) == (422, {field}), (field, value)


def test_a_birth_date_is_from_1900_and_not_in_the_future(
    client: FlaskClient, org_a: Org, auth: Auth
):
    admin = auth(org_a, ADMIN)
    accounts = f"/v1/organisations/{org_a.id}/accounts"
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    for n, refused_date in enumerate(("1899-12-31", tomorrow)):
        body = {"user_principal_name": f"p{n}@org-a.example", "display_name": "P"}
        refused = client.post(accounts, json=body | {"birth_date": refused_date}, headers=admin)
        assert (refused.status_code, _error_fields(refused)) == (422, {"birth_date"})
    body = {"user_principal_name": "old@org-a.example", "display_name": "Old"}
    assert (
        client.post(accounts, json=body | {"birth_date": "1900-01-01"}, headers=admin).status_code
        == 201
    )


# 4. Problems name the API's fields: `_body` for the body as a whole, never `_schema`.


def test_an_empty_patch_is_refused_on_the_body(client: FlaskClient, org_a: Org, auth: Auth):
    headers = auth(org_a, ADMIN)
    for url in (_schedule_url(org_a), _webhook_url(org_a, uuid.uuid4())):
        response = client.patch(url, json={}, headers=headers)
        assert response.status_code == 422
        assert _error_fields(response) == {"_body"}
        assert "send at least one of" in response.get_json()["errors"][0]["message"]


@pytest.mark.parametrize("body", ["[]", '"enabled"', '"\\u0000"', "null", "3"])
def test_a_body_that_is_not_an_object_is_refused_on_the_body(
    client: FlaskClient, org_a: Org, auth: Auth, body: str
):
    response = client.patch(
        _schedule_url(org_a),
        data=body,
        content_type="application/json",
        headers=auth(org_a, ADMIN),
    )
    assert (response.status_code, _error_fields(response)) == (422, {"_body"})


def test_a_nested_value_that_is_not_an_object_is_refused_on_its_own_path(
    client: FlaskClient, org_a: Org, auth: Auth
):
    draft = draft_body("nested", utcnow() + timedelta(days=1)) | {"changes": [1]}
    response = client.post(URL, json=draft, headers=auth(None, DPO))
    assert (response.status_code, _error_fields(response)) == (422, {"changes.0"})
    body = contract_body() | {"products": ["website-hosting"]}
    response = client.post(contracts_url(org_a), json=body, headers=auth(None, OPERATOR))
    assert (response.status_code, _error_fields(response)) == (422, {"products.0"})


def _operations_with_a_body() -> list[tuple[str, str]]:
    paths = json.loads(DOCUMENT.read_text(encoding="utf-8"))["paths"]
    return [
        (path, method)
        for path, item in paths.items()
        for method, operation in item.items()
        if method in HTTP_METHODS and "requestBody" in operation
    ]


def test_no_problem_of_any_body_names_marshmallows_schema(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth
):
    operations = _operations_with_a_body()
    assert len(operations) > 10
    operator = auth(None, OPERATOR)
    for path, method in operations:
        url = path.replace("{org_id}", str(org_a.id))
        url = "/".join(str(uuid.uuid4()) if p.startswith("{") else p for p in url.split("/"))
        for body in ("[]", "{}", '{"x": {}}'):
            response = client.open(
                url,
                method=method.upper(),
                data=body,
                content_type="application/json",
                headers=operator,
            )
            assert "_schema" not in response.get_data(as_text=True), (method, path, body)
