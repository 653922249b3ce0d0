"""Forged, stale and misdirected tokens are refused with 401 problem+json; real ones pass."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from facito_admin.tenants.models import OrganisationStatus
from tests.conftest import AUTHORITY, CLIENT_ID, TENANT_A, Org, make_organisation


def _claims(tenant: str = TENANT_A, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "aud": CLIENT_ID,
        "iss": f"{AUTHORITY}/{tenant}/v2.0",
        "tid": tenant,
        "oid": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "ver": "2.0",
        "scp": "access_as_user",
        "roles": ["Organisation.Admin"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _call(client, token: str):
    return client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})


def _assert_refused(response, reason_fragment: str) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert body["code"] == "unauthenticated"
    assert reason_fragment in body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_a_valid_token_of_a_federated_tenant_is_accepted(client, org_a: Org, signing_key: RSAKey):
    token = jwt.encode({"alg": "RS256", "kid": signing_key.kid}, _claims(), signing_key)
    response = _call(client, token)
    assert response.status_code == 200
    assert response.get_json()["organisation_id"] == str(org_a.id)


def test_alg_none_is_refused(client, org_a: Org):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    _assert_refused(_call(client, token), "algorithm")


def test_hs256_signed_with_the_public_key_is_refused(client, org_a: Org, signing_key: RSAKey):
    # joserfc itself refuses to build this key confusion; sign by hand as an attacker would.
    public_pem = signing_key.as_pem(private=False)
    signing_input = f"{_b64({'alg': 'HS256', 'kid': signing_key.kid})}.{_b64(_claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    _assert_refused(_call(client, token), "algorithm")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "api://someone-else"}, "aud"),
        ({"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200}, "expired"),
        ({"nbf": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, "not yet valid"),
        ({"iss": f"{AUTHORITY}/{uuid.uuid4()}/v2.0"}, "iss"),
        ({"iss": "https://sts.windows.net/" + TENANT_A + "/"}, "iss"),
        ({"tid": "not-a-guid"}, "tid"),
        ({"oid": None}, "oid"),
        ({"exp": None}, "exp"),
    ],
    ids=[
        "wrong-aud",
        "expired",
        "not-yet-valid",
        "iss-of-other-tenant",
        "v1-issuer",
        "tid-not-guid",
        "no-oid",
        "no-exp",
    ],
)
def test_tokens_with_wrong_claims_are_refused(
    client, org_a: Org, signing_key: RSAKey, overrides: dict[str, object], reason: str
):
    token = jwt.encode({"alg": "RS256", "kid": signing_key.kid}, _claims(**overrides), signing_key)
    _assert_refused(_call(client, token), reason)


def test_unknown_kid_is_refused(client, org_a: Org):
    stranger = RSAKey.generate_key(2048, parameters={"kid": "not-published"})
    token = jwt.encode({"alg": "RS256", "kid": stranger.kid}, _claims(), stranger)
    _assert_refused(_call(client, token), "unknown signing key")


def test_a_key_we_publish_under_another_kid_does_not_verify(
    client, org_a: Org, signing_key: RSAKey
):
    stranger = RSAKey.generate_key(2048, parameters={"kid": signing_key.kid})
    token = jwt.encode({"alg": "RS256", "kid": signing_key.kid}, _claims(), stranger)
    _assert_refused(_call(client, token), "signature")


def test_tampered_signature_is_refused(client, org_a: Org, signing_key: RSAKey):
    token = jwt.encode({"alg": "RS256", "kid": signing_key.kid}, _claims(), signing_key)
    header, payload, signature = token.split(".")
    forged_payload = _b64(_claims(roles=["Organisation.Admin", "Facito.Operator"]))
    _assert_refused(_call(client, f"{header}.{forged_payload}.{signature}"), "signature")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    _assert_refused(_call(client, f"{header}.{payload}.{flipped}"), "signature")


def test_token_of_a_tenant_that_is_not_federated_is_refused(
    client, org_a: Org, signing_key: RSAKey
):
    stranger_tenant = str(uuid.uuid4())
    token = jwt.encode(
        {"alg": "RS256", "kid": signing_key.kid}, _claims(stranger_tenant), signing_key
    )
    _assert_refused(_call(client, token), "not federated")


def test_token_of_a_pending_federation_is_refused(client, runtime, signing_key: RSAKey):
    from facito_admin.tenants.models import FederationStatus

    pending = make_organisation(
        runtime, "pending-org", str(uuid.uuid4()), FederationStatus.pending_consent
    )
    token = jwt.encode(
        {"alg": "RS256", "kid": signing_key.kid}, _claims(pending.tenant_id), signing_key
    )
    _assert_refused(_call(client, token), "not federated")


def test_token_of_a_suspended_organisation_is_refused(
    client, org_a: Org, org_b: Org, auth, operator
):
    suspended = client.post(
        f"/v1/organisations/{org_a.id}/suspend", json={"reason": "unpaid"}, headers=operator
    )
    assert suspended.get_json()["status"] == OrganisationStatus.suspended.value
    _assert_refused(client.get("/v1/me", headers=auth(org_a, "Organisation.Admin")), "not active")
    assert client.get("/v1/me", headers=auth(org_b, "Organisation.Admin")).status_code == 200


@pytest.mark.parametrize(
    "header", ["", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "Bearer a.b"]
)
def test_missing_or_malformed_authorization_is_refused(client, header: str):
    response = client.get("/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
