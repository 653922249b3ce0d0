"""Who may ask comes before what is asked: authentication and authorisation answer before the
request is parsed, and query strings are as strict as bodies."""

from __future__ import annotations

from tests.conftest import Org


def test_a_misspelt_query_argument_is_422_naming_it(client, org_a: Org, operator):
    response = client.get("/v1/organisations?stauts=active", headers=operator)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [e["field"] for e in response.get_json()["errors"]] == ["stauts"]
    assert client.get("/v1/organisations?status=active", headers=operator).status_code == 200


def test_without_a_token_an_invalid_body_is_401_not_422(client, org_a: Org):
    response = client.post("/v1/organisations", json={"nonsense": 1})
    assert response.status_code == 401
    response = client.post(f"/v1/organisations/{org_a.id}/suspend", data="x")
    assert response.status_code == 401


def test_without_the_permission_an_invalid_body_is_403_not_422(client, org_a: Org, auth):
    admin = auth(org_a, "Organisation.Admin")
    response = client.post("/v1/organisations", json={"nonsense": 1}, headers=admin)
    assert response.status_code == 403
    response = client.patch(f"/v1/organisations/{org_a.id}", json={"x": 1}, headers=admin)
    assert response.status_code == 403


def test_an_operator_on_a_nonexistent_organisation_gets_404_before_428(client, operator):
    response = client.patch(
        "/v1/organisations/01a2145e-0000-7000-8000-000000000000", json={}, headers=operator
    )
    assert response.status_code == 404
    assert response.get_json()["code"] == "not-found"


def test_the_own_organisations_invalid_body_is_still_422(client, org_a: Org, operator):
    response = client.patch(
        f"/v1/organisations/{org_a.id}", json={"name": ""}, headers=operator | {"If-Match": "*"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["name"]
