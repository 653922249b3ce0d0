"""What the edge answers whatever the route: RFC 6750 challenges on 401 and 403, and absolute
URLs from the configured public address, never from the request's Host."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from facito_admin.config import Environment
from facito_admin.runtime import Runtime
from tests.api.accounts.helpers import accounts_url, create
from tests.api.scim.conftest import SCIM, create_scim_token, new_user, scim_a
from tests.apps import build_app
from tests.conftest import Org

__all__ = ["create_scim_token", "scim_a"]
Auth = Callable[..., dict[str, str]]
PUBLIC = "http://127.0.0.1:5000"
EVIL = "evil.example"


def test_no_token_is_challenged_without_an_error_code(client: FlaskClient, org_a: Org):
    response = client.get(accounts_url(org_a))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="facito-admin"'


def test_a_refused_token_is_challenged_as_invalid_with_the_reason(client: FlaskClient, org_a: Org):
    response = client.get(accounts_url(org_a), headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="facito-admin", error="invalid_token", ')
    assert 'error_description="invalid token: ' in challenge
    assert response.get_json()["detail"].startswith("invalid token: ")


def test_missing_roles_are_challenged_as_insufficient_scope(
    client: FlaskClient, org_a: Org, auth: Auth
):
    response = client.post(accounts_url(org_a), json={}, headers=auth(org_a, "Organisation.Reader"))
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="facito-admin", error="insufficient_scope"'
    )
    assert response.get_json()["missing_permissions"] == ["org:accounts:write"]


def test_another_organisation_is_not_challenged_it_does_not_exist(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth
):
    response = client.post(accounts_url(org_a), json={}, headers=auth(org_b, "Organisation.Reader"))
    assert response.status_code == 404
    assert "WWW-Authenticate" not in response.headers


def test_scim_challenges_in_its_own_realm(client: FlaskClient, scim_a: dict[str, str]):
    missing = client.get(f"{SCIM}/Users")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="facito-admin-scim"'
    refused = client.get(f"{SCIM}/Users", headers={"Authorization": "Bearer fscim.x.y.z"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith(
        'Bearer realm="facito-admin-scim", error="invalid_token"'
    )


def test_links_and_locations_use_the_public_address_whatever_host_was_asked(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth, scim_a: dict[str, str]
):
    headers = auth(org_a, "Organisation.Admin")
    for n in range(3):
        create(client, org_a, headers, user_principal_name=f"u{n}@a.example", display_name=f"U{n}")
    listed = client.get(
        accounts_url(org_a), query_string={"limit": 2}, headers=headers, base_url=f"http://{EVIL}"
    )
    assert listed.headers["Link"].startswith(f"<{PUBLIC}/v1/organisations/{org_a.id}/accounts?")
    assert EVIL not in listed.headers["Link"]

    created = client.post(
        f"{SCIM}/Users",
        json=new_user("bjensen@example.com"),
        headers=scim_a,
        base_url=f"https://{EVIL}",
    )
    assert created.status_code == 201
    assert created.get_json()["meta"]["location"].startswith(f"{PUBLIC}{SCIM}/Users/")
    assert created.headers["Location"] == created.get_json()["meta"]["location"]
    read = client.get(
        created.headers["Location"].removeprefix(PUBLIC), headers=scim_a, base_url=f"http://{EVIL}"
    )
    assert EVIL not in read.get_data(as_text=True)
    # The other organisation's caller does not reach the account whatever the host.
    user = created.get_json()
    outsider = client.get(
        f"/v1/organisations/{org_a.id}/accounts/{user['id']}",
        headers=auth(org_b, "Organisation.Admin"),
        base_url=f"http://{EVIL}",
    )
    assert outsider.status_code == 404


@pytest.fixture
def production_client(runtime: Runtime) -> FlaskClient:
    """The app as production runs it: known host only (the rest of the settings: the tests')."""
    app = build_app(
        runtime, env=Environment.production, public_base_url="https://admin.facito.example"
    )
    return app.test_client()


def test_production_refuses_a_request_for_another_host(
    production_client: FlaskClient, org_a: Org, auth: Auth
):
    headers = auth(org_a, "Organisation.Admin")
    refused = production_client.get(
        accounts_url(org_a), headers=headers, base_url=f"https://{EVIL}"
    )
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "unknown-host"
    served = production_client.get(
        accounts_url(org_a), headers=headers, base_url="https://admin.facito.example"
    )
    assert served.status_code == 200
    # Load balancers probe the instance by its address.
    assert production_client.get("/livez", base_url="http://10.0.0.7:8000").status_code == 200
