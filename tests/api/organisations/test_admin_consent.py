"""Admin-consent onboarding end to end, against a local HTTPS fake of Entra ID.

The app here is a second one on the same database, configured with the fake as its authority
host and the fake's CA as its bundle, so msal really talks TLS to 127.0.0.1.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

from facito_admin.app import create_app
from facito_admin.auth.dev_issuer import mint_token
from facito_admin.config import Settings, load_settings
from facito_admin.organisations.actions import OrganisationAction
from facito_admin.runtime import Runtime
from tests.api.organisations.helpers import audit_trail
from tests.conftest import CLIENT_ID, FACITO_TENANT, Org, make_organisation
from tests.fakes.entra import FakeEntra

TENANT = "dddddddd-0000-4000-8000-00000000000d"
OTHER_TENANT = "eeeeeeee-0000-4000-8000-00000000000e"
PUBLIC = "https://admin.facito.test"
CALLBACK = "/v1/federations/admin-consent/callback"


@pytest.fixture(scope="module")
def entra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeEntra]:
    fake = FakeEntra(Path(tmp_path_factory.mktemp("entra")))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def consent_app(settings: Settings, entra: FakeEntra) -> Iterator[Flask]:
    # Validated like real configuration (model_copy would skip the validators).
    app = create_app(
        load_settings(
            settings.model_dump()
            | {
                "authority_host": entra.base_url,
                "ca_bundle": str(entra.ca_file),
                "public_base_url": PUBLIC,
                "client_secret": "s3cret-of-the-app",
            }
        )
    )
    yield app
    app.extensions["facito"].database.dispose()


@pytest.fixture
def web(consent_app: Flask, entra: FakeEntra, runtime: Runtime) -> FlaskClient:
    entra.reset()
    return consent_app.test_client()


@pytest.fixture
def headers(consent_app: Flask, signing_key: RSAKey, entra: FakeEntra):
    """Bearer headers for tokens issued by the fake authority (the app's issuer host)."""

    def _headers(tenant_id: str, *roles: str) -> dict[str, str]:
        token = mint_token(
            signing_key,
            authority_host=entra.base_url,
            audience=CLIENT_ID,
            tenant_id=tenant_id,
            object_id=str(uuid.uuid4()),
            roles=list(roles),
        )
        return {"Authorization": f"Bearer {token}"}

    return _headers


@pytest.fixture
def contoso(runtime: Runtime) -> Org:
    return make_organisation(runtime, "contoso", None)


@pytest.fixture
def operator_headers(headers) -> dict[str, str]:
    return headers(FACITO_TENANT, "Facito.Operator")


def _attach(web: FlaskClient, org: Org, operator_headers: dict[str, str]) -> str:
    response = web.post(
        f"/v1/organisations/{org.id}/federations",
        json={"tenant_id": TENANT, "display_name": "Contoso"},
        headers=operator_headers,
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _consent_state(web: FlaskClient, org: Org, federation_id: str, operator_headers) -> str:
    response = web.post(
        f"/v1/organisations/{org.id}/federations/{federation_id}/admin-consent",
        headers=operator_headers,
    )
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["state"])


def _callback(web: FlaskClient, **params: str):
    return web.get(f"{CALLBACK}?{urlencode(params)}")


def _status(web: FlaskClient, org: Org, federation_id: str, operator_headers) -> str:
    url = f"/v1/organisations/{org.id}/federations/{federation_id}"
    return str(web.get(url, headers=operator_headers).get_json()["status"])


def test_consent_proven_by_a_token_activates_the_federation_and_lets_the_tenant_in(
    web, runtime, entra: FakeEntra, contoso: Org, headers, operator_headers
):
    federation_id = _attach(web, contoso, operator_headers)
    tenant_admin = headers(TENANT, "Organisation.Admin")
    assert web.get("/v1/me", headers=tenant_admin).status_code == 401

    started = web.post(
        f"/v1/organisations/{contoso.id}/federations/{federation_id}/admin-consent",
        headers=operator_headers,
    )
    assert started.status_code == 200
    body = started.get_json()
    url = urlsplit(body["consent_url"])
    assert f"{url.scheme}://{url.netloc}" == entra.base_url
    assert url.path == f"/{TENANT}/v2.0/adminconsent"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query == {
        "client_id": CLIENT_ID,
        "scope": "https://graph.microsoft.com/.default",
        "redirect_uri": PUBLIC + CALLBACK,
        "state": body["state"],
    }
    assert body["expires_at"].endswith("Z")

    entra.issue_tokens(TENANT)
    # Entra's redirect: the administrator's browser, no bearer token.
    response = _callback(web, admin_consent="True", tenant=TENANT, state=body["state"])
    assert response.status_code == 200, response.get_json()
    federation = response.get_json()
    assert federation["status"] == "active"
    assert federation["consented_at"] is not None

    (posted,) = entra.token_requests(TENANT)
    assert posted["grant_type"] == "client_credentials"
    assert posted["client_id"] == CLIENT_ID
    assert posted["client_secret"] == "s3cret-of-the-app"
    assert posted["scope"] == "https://graph.microsoft.com/.default"

    me = web.get("/v1/me", headers=tenant_admin)
    assert me.status_code == 200
    assert me.get_json()["organisation_id"] == str(contoso.id)

    trail = audit_trail(runtime, contoso.id)
    assert [e["action"] for e in trail] == [
        OrganisationAction.OrganisationCreate,
        OrganisationAction.FederationAttach,
        OrganisationAction.FederationConsentStart,
        OrganisationAction.FederationActivate,
    ]
    activated = trail[-1]
    assert activated["outcome"] == "success"
    assert (activated["actor_kind"], activated["actor_display"]) == (
        "system",
        "entra-admin-consent",
    )
    assert activated["details"] == {"tenant_id": TENANT, "from": "pending_consent"}


def test_a_refused_token_leaves_the_federation_pending_with_502_and_a_reload_can_succeed(
    web, runtime, entra: FakeEntra, contoso: Org, headers, operator_headers
):
    federation_id = _attach(web, contoso, operator_headers)
    state = _consent_state(web, contoso, federation_id, operator_headers)
    entra.refuse_tokens(
        TENANT,
        401,
        {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."},
    )
    response = _callback(web, admin_consent="True", tenant=TENANT, state=state)
    assert response.status_code == 502
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "upstream-failed"
    assert problem["error"] == "invalid_client"
    assert _status(web, contoso, federation_id, operator_headers) == "pending_consent"
    assert web.get("/v1/me", headers=headers(TENANT, "Organisation.Admin")).status_code == 401
    failure = audit_trail(runtime, contoso.id)[-1]
    assert failure["action"] == OrganisationAction.FederationActivate
    assert failure["outcome"] == "failure"
    assert failure["details"] == {
        "tenant_id": TENANT,
        "reason": "not-proven",
        "error": "invalid_client",
    }

    # Once Entra issues tokens, reloading the same redirect works: msal's replay of the
    # earlier error is not in the way (a fresh app per attempt).
    entra.reset()
    entra.issue_tokens(TENANT)
    retried = _callback(web, admin_consent="True", tenant=TENANT, state=state)
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["status"] == "active"


@pytest.mark.parametrize("entra_answer", ["unknown-tenant", "server-error"])
def test_an_unknown_tenant_or_a_failing_entra_is_an_upstream_failure(
    web, runtime, entra: FakeEntra, contoso: Org, operator_headers, entra_answer: str
):
    federation_id = _attach(web, contoso, operator_headers)
    state = _consent_state(web, contoso, federation_id, operator_headers)
    if entra_answer == "unknown-tenant":
        entra.unknown_tenant(TENANT)
    # Otherwise nothing is published for the tenant: the fake answers 500.
    response = _callback(web, admin_consent="True", tenant=TENANT, state=state)
    assert response.status_code == 502
    assert response.get_json()["error"] == "unreachable"
    assert _status(web, contoso, federation_id, operator_headers) == "pending_consent"


def test_a_tampered_or_foreign_state_is_refused_without_asking_entra(
    web, runtime, entra: FakeEntra, contoso: Org, operator_headers
):
    federation_id = _attach(web, contoso, operator_headers)
    state = _consent_state(web, contoso, federation_id, operator_headers)
    entra.issue_tokens(TENANT)
    before = audit_trail(runtime, contoso.id)
    tampered = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
    for bad in (tampered, "not-a-state", state + "x"):
        response = _callback(web, admin_consent="True", tenant=TENANT, state=bad)
        assert response.status_code == 400
        assert response.get_json()["code"] == "invalid-consent-state"
    assert _callback(web, admin_consent="True", tenant=TENANT).status_code == 422
    assert entra.token_requests(TENANT) == []
    assert audit_trail(runtime, contoso.id) == before
    assert _status(web, contoso, federation_id, operator_headers) == "pending_consent"


def test_a_state_is_single_use_and_a_newer_one_replaces_it(
    web, runtime, entra: FakeEntra, contoso: Org, operator_headers
):
    federation_id = _attach(web, contoso, operator_headers)
    first = _consent_state(web, contoso, federation_id, operator_headers)
    second = _consent_state(web, contoso, federation_id, operator_headers)
    entra.issue_tokens(TENANT)

    replaced = _callback(web, admin_consent="True", tenant=TENANT, state=first)
    assert replaced.status_code == 400
    assert replaced.get_json()["code"] == "invalid-consent-state"

    assert _callback(web, admin_consent="True", tenant=TENANT, state=second).status_code == 200
    replayed = _callback(web, admin_consent="True", tenant=TENANT, state=second)
    assert replayed.status_code == 400
    assert replayed.get_json()["code"] == "invalid-consent-state"
    assert len(entra.token_requests(TENANT)) == 1
    activations = [
        e for e in audit_trail(runtime, contoso.id) if e["action"] == "org:federation:activate"
    ]
    assert len(activations) == 1


def test_a_state_expires_after_one_hour(web, entra: FakeEntra, contoso: Org, operator_headers):
    federation_id = _attach(web, contoso, operator_headers)
    state = _consent_state(web, contoso, federation_id, operator_headers)
    entra.issue_tokens(TENANT)
    with time_machine.travel(timedelta(hours=1, minutes=1), tick=False):
        response = _callback(web, admin_consent="True", tenant=TENANT, state=state)
    assert response.status_code == 400
    assert "expired" in response.get_json()["detail"]
    assert entra.token_requests(TENANT) == []


def test_consent_from_another_tenant_is_refused_and_spends_the_state(
    web, runtime, entra: FakeEntra, contoso: Org, operator_headers
):
    federation_id = _attach(web, contoso, operator_headers)
    state = _consent_state(web, contoso, federation_id, operator_headers)
    entra.issue_tokens(TENANT)
    entra.issue_tokens(OTHER_TENANT)
    response = _callback(web, admin_consent="True", tenant=OTHER_TENANT, state=state)
    assert response.status_code == 400
    assert response.get_json()["code"] == "tenant-mismatch"
    assert entra.token_requests(OTHER_TENANT) == entra.token_requests(TENANT) == []
    assert _status(web, contoso, federation_id, operator_headers) == "pending_consent"
    failure = audit_trail(runtime, contoso.id)[-1]
    assert (failure["outcome"], failure["details"]["reason"]) == ("failure", "tenant-mismatch")
    again = _callback(web, admin_consent="True", tenant=TENANT, state=state)
    assert again.get_json()["code"] == "invalid-consent-state"


def test_an_administrator_who_declines_leaves_the_federation_pending(
    web, runtime, entra: FakeEntra, contoso: Org, operator_headers
):
    federation_id = _attach(web, contoso, operator_headers)
    state = _consent_state(web, contoso, federation_id, operator_headers)
    entra.issue_tokens(TENANT)
    response = _callback(
        web,
        error="access_denied",
        error_description="AADSTS65004: User declined to consent to access the app.",
        state=state,
    )
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["code"] == "admin-consent-denied"
    assert problem["error"] == "access_denied"
    assert "AADSTS65004" in problem["detail"]
    assert entra.token_requests(TENANT) == []
    assert _status(web, contoso, federation_id, operator_headers) == "pending_consent"
    failure = audit_trail(runtime, contoso.id)[-1]
    assert failure["outcome"] == "failure"
    assert failure["details"]["reason"] == "access_denied"
    # The declined state cannot be replayed as a success.
    replay = _callback(web, admin_consent="True", tenant=TENANT, state=state)
    assert replay.get_json()["code"] == "invalid-consent-state"
    # Without `admin_consent=True` nothing is activated either.
    state = _consent_state(web, contoso, federation_id, operator_headers)
    assert _callback(web, tenant=TENANT, state=state).get_json()["code"] == "admin-consent-denied"


def test_disabling_a_federation_voids_its_outstanding_consent_url(
    web, entra: FakeEntra, contoso: Org, operator_headers
):
    federation_id = _attach(web, contoso, operator_headers)
    state = _consent_state(web, contoso, federation_id, operator_headers)
    disable = f"/v1/organisations/{contoso.id}/federations/{federation_id}/disable"
    assert web.post(disable, headers=operator_headers).status_code == 200
    entra.issue_tokens(TENANT)
    response = _callback(web, admin_consent="True", tenant=TENANT, state=state)
    assert response.get_json()["code"] == "invalid-consent-state"
    # A new consent re-activates it.
    state = _consent_state(web, contoso, federation_id, operator_headers)
    assert _callback(web, admin_consent="True", tenant=TENANT, state=state).status_code == 200
    assert _status(web, contoso, federation_id, operator_headers) == "active"


def test_the_callback_is_documented_without_security(consent_app: Flask, runtime: Runtime):
    spec = consent_app.test_client().get("/openapi.json").get_json()
    operation = spec["paths"][CALLBACK]["get"]
    assert operation["security"] == []
    assert {p["name"] for p in operation["parameters"]} >= {"state", "tenant", "admin_consent"}
