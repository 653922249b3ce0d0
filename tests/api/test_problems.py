"""Every error leaves as RFC 9457 problem+json with the request id; bad input never gets a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import abort
from werkzeug.exceptions import UnprocessableEntity

from facito_admin.http.problems import http_exception_to_problem
from facito_admin.runtime import Runtime
from tests.apps import build_app
from tests.conftest import Org

Auth = Callable[..., dict[str, str]]
NEW_ORG = {
    "slug": "acme",
    "name": "Acme B.V.",
    "primary_region": "azure-nl",
    "backup_region": "azure-de",
}


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The shape every error shares; returns the body for further checks."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.path
    assert body["request_id"] == response.headers["X-Request-ID"]
    if code:
        assert body["code"] == code
    return body


def test_an_unknown_route_is_404(client: FlaskClient):
    assert_problem(client.get("/v1/nothing-here"), 404, "not-found")


def test_a_wrong_method_is_405_and_says_which_are_allowed(client: FlaskClient, auth: Auth):
    response = client.delete("/v1/me", headers=auth(None, "Facito.Operator"))
    assert_problem(response, 405, "method-not-allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_body_that_is_not_json_is_415(client: FlaskClient, operator: dict[str, str]):
    response = client.post(
        "/v1/organisations",
        data="slug=acme",
        headers={**operator, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415, "unsupported-media-type")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [("{not json", "not valid JSON"), ("[" * 100_000, "nests too deeply"), (b"\xff\xfe", "JSON")],
)
def test_malformed_json_is_400_not_500(
    client: FlaskClient, operator: dict[str, str], body: str | bytes, fragment: str
):
    response = client.post(
        "/v1/organisations", data=body, headers={**operator, "Content-Type": "application/json"}
    )
    problem = assert_problem(response, 400, "invalid-json")
    assert fragment in problem["detail"]


def test_invalid_fields_are_422_with_one_error_per_field(
    client: FlaskClient, operator: dict[str, str]
):
    response = client.post(
        "/v1/organisations",
        json={"slug": "x" * 64, "name": "Acme", "primary_region": "azure-nl", "owner": "me"},
        headers=operator,
    )
    problem = assert_problem(response, 422, "validation-failed")
    by_field = {(e["field"], e["location"]): e["message"] for e in problem["errors"]}
    assert set(by_field) == {
        ("slug", "json"),
        ("backup_region", "json"),
        ("owner", "json"),
    }
    assert by_field[("owner", "json")] == "Unknown field."
    assert "Missing data" in by_field[("backup_region", "json")]


def test_invalid_query_arguments_are_422_in_the_query(
    client: FlaskClient, operator: dict[str, str]
):
    response = client.get("/v1/organisations?limit=many&status=sleeping", headers=operator)
    problem = assert_problem(response, 422, "validation-failed")
    assert {(e["field"], e["location"]) for e in problem["errors"]} == {
        ("limit", "query"),
        ("status", "query"),
    }


def test_webargs_errors_without_headers_do_not_crash(app: Flask):
    # webargs passes headers=None along with its validation messages.
    with app.test_request_context("/v1/organisations", method="POST"):
        try:
            abort(422, messages={"json": {"name": ["Missing."]}}, headers=None)
        except UnprocessableEntity as error:
            response = http_exception_to_problem(error)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "name", "location": "json", "message": "Missing."}
    ]


def test_a_missing_token_is_401_with_a_bearer_challenge(client: FlaskClient):
    response = client.get("/v1/me")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_role_without_the_permission_is_403(client: FlaskClient, auth: Auth, org_a: Org):
    response = client.post(
        "/v1/organisations", json=NEW_ORG, headers=auth(org_a, "Organisation.Admin")
    )
    problem = assert_problem(response, 403, "forbidden")
    assert problem["missing_permissions"] == ["facito:organisations:manage"]


def test_another_organisation_is_404_before_any_403(
    client: FlaskClient, auth: Auth, org_a: Org, org_b: Org
):
    response = client.get(
        f"/v1/organisations/{org_a.id}", headers=auth(org_b, "Organisation.Admin")
    )
    assert_problem(response, 404, "not-found")


def test_a_duplicate_is_409(client: FlaskClient, operator: dict[str, str], org_a: Org):
    response = client.post(
        "/v1/organisations", json=NEW_ORG | {"slug": org_a.slug}, headers=operator
    )
    assert_problem(response, 409, "already-exists")


def test_a_stale_if_match_is_412_and_a_missing_one_428(
    client: FlaskClient, operator: dict[str, str], org_a: Org
):
    path = f"/v1/organisations/{org_a.id}"
    etag = client.get(path, headers=operator).headers["ETag"]
    changed = client.patch(path, json={"name": "New"}, headers={**operator, "If-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag

    stale = client.patch(path, json={"name": "Newer"}, headers={**operator, "If-Match": etag})
    assert_problem(stale, 412, "precondition-failed")
    missing = client.patch(path, json={"name": "Newer"}, headers=operator)
    assert_problem(missing, 428, "precondition-required")
    assert client.get(path, headers=operator).get_json()["name"] == "New"


def test_too_many_requests_is_429(runtime: Runtime, auth: Auth, org_a: Org):
    limited = build_app(runtime, rate_limit="1/minute").test_client()
    headers = auth(org_a, "Organisation.Reader")
    assert limited.get("/v1/me", headers=headers).status_code == 200
    response = limited.get("/v1/me", headers=headers)
    assert_problem(response, 429, "too-many-requests")
    assert int(response.headers["Retry-After"]) >= 1


def test_a_crash_is_500_without_internals(runtime: Runtime):
    def routes(app: Flask) -> None:
        def crash() -> Any:
            raise RuntimeError("password=hunter2 at /srv/facito/secret.py")

        app.add_url_rule("/test/crash", "crash", crash)

    response = build_app(runtime, routes=routes).test_client().get("/test/crash")
    problem = assert_problem(response, 500, "internal-error")
    text = response.get_data(as_text=True)
    for leak in ("hunter2", "secret.py", "RuntimeError", "Traceback"):
        assert leak not in text
    assert "request id" in problem["detail"]


def test_a_well_formed_request_id_is_echoed(client: FlaskClient):
    response = client.get("/v1/me", headers={"X-Request-ID": "lb-4f2a:9.x_y-z"})
    assert response.headers["X-Request-ID"] == "lb-4f2a:9.x_y-z"
    assert response.get_json()["request_id"] == "lb-4f2a:9.x_y-z"


@pytest.mark.parametrize("incoming", ["a" * 101, "has space", "semi;colon", 'quote"d', ""])
def test_a_malformed_request_id_is_replaced(client: FlaskClient, incoming: str):
    response = client.get("/v1/me", headers={"X-Request-ID": incoming})
    echoed = response.headers["X-Request-ID"]
    assert echoed != incoming
    assert len(echoed) == 32
    assert response.get_json()["request_id"] == echoed


def test_successful_answers_carry_a_request_id_too(client: FlaskClient):
    assert len(client.get("/livez").headers["X-Request-ID"]) == 32


def test_a_foreign_cursor_is_422_in_the_query(client: FlaskClient, operator: dict[str, str]):
    response = client.get("/v1/organisations?cursor=bm90LW91cnM", headers=operator)
    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"] == [
        {"field": "cursor", "location": "query", "message": "not a cursor of this list"}
    ]


def test_nul_characters_in_query_or_body_are_refused_with_422_on_both_databases(
    client, org_a, auth, operator
):
    admin = auth(org_a, "Organisation.Admin")
    listed = client.get(f"/v1/organisations/{org_a.id}/audit-events?actor=a%00b", headers=admin)
    assert listed.status_code == 422
    assert listed.get_json()["errors"][0]["field"] == "actor"
    created = client.post(
        "/v1/organisations",
        json={
            "slug": "nul",
            "name": "bad\u0000name",
            "primary_region": "azure-nl",
            "backup_region": "azure-de",
        },
        headers=operator,
    )
    assert created.status_code == 422
    assert created.get_json()["errors"][0]["field"] == "name"
