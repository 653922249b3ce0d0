"""Rate limits: one budget per organisation and client (per address without a valid token)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from facito_admin.http.idempotency_models import IdempotencyRecord
from facito_admin.runtime import Runtime
from tests.apps import build_app
from tests.conftest import Org

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def limited_app(runtime: Runtime) -> Flask:
    return build_app(runtime, rate_limit="3/minute")


@pytest.fixture
def limited(limited_app: Flask) -> FlaskClient:
    return limited_app.test_client()


def _assert_limited(response) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "too-many-requests"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Limit"] == "3"
    assert response.headers["RateLimit-Remaining"] == "0"
    assert response.headers["RateLimit-Policy"] == "3;w=60"


def test_a_client_over_its_budget_gets_429_with_retry_after(
    limited: FlaskClient, auth: Auth, org_a: Org
):
    oid = str(uuid.uuid4())
    remaining = []
    for _ in range(3):
        # A fresh token each time: the budget belongs to the identity, not to the token.
        response = limited.get("/v1/me", headers=auth(org_a, "Organisation.Reader", oid=oid))
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "3"
        assert 0 <= int(response.headers["RateLimit-Reset"]) <= 60
        remaining.append(response.headers["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    # The budget is shared by all routes.
    over = limited.get(
        f"/v1/organisations/{org_a.id}", headers=auth(org_a, "Organisation.Reader", oid=oid)
    )
    _assert_limited(over)


def test_other_clients_and_organisations_keep_their_own_budget(
    limited: FlaskClient, auth: Auth, org_a: Org, org_b: Org
):
    busy = auth(org_a, "Organisation.Reader", oid=str(uuid.uuid4()))
    for _ in range(3):
        limited.get("/v1/me", headers=busy)
    _assert_limited(limited.get("/v1/me", headers=busy))

    colleague = auth(org_a, "Organisation.Reader", oid=str(uuid.uuid4()))
    assert limited.get("/v1/me", headers=colleague).status_code == 200
    other_org = auth(org_b, "Organisation.Reader")
    assert limited.get("/v1/me", headers=other_org).status_code == 200
    # Organisation B still sees nothing of A, limited or not.
    assert limited.get(f"/v1/organisations/{org_a.id}", headers=other_org).status_code == 404


def test_callers_without_a_valid_token_are_limited_by_address(
    limited: FlaskClient, auth: Auth, org_a: Org
):
    for headers in ({}, {"Authorization": "Bearer forged.token.here"}, {}):
        assert limited.get("/v1/me", headers=headers).status_code == 401
    _assert_limited(limited.get("/v1/me"))
    # ...while a valid token from the same address has its own budget.
    assert limited.get("/v1/me", headers=auth(org_a, "Organisation.Reader")).status_code == 200


def test_probes_metrics_and_documentation_are_never_limited(limited: FlaskClient):
    for _ in range(5):
        for path in ("/livez", "/readyz", "/metrics", "/openapi.json", "/docs/"):
            response = limited.get(path)
            assert response.status_code == 200, path
            assert "RateLimit-Limit" not in response.headers


def test_a_limited_post_is_not_stored_under_its_idempotency_key(
    limited: FlaskClient, operator: dict[str, str], runtime: Runtime
):
    # The operator's token: the same identity (tid, oid) for all four requests.
    for _ in range(3):
        limited.get("/v1/regions", headers=operator)
    refused = limited.post(
        "/v1/organisations",
        json={"slug": "acme", "name": "Acme", "primary_region": "azure-nl"},
        headers={**operator, "Idempotency-Key": "k-1"},
    )
    _assert_limited(refused)
    with runtime.session() as session:
        assert list(session.scalars(select(IdempotencyRecord))) == []


@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_forwarded_addresses_count_only_behind_a_trusted_proxy(
    runtime: Runtime, trusted_proxies: int
):
    app = build_app(runtime, rate_limit="1/minute", trusted_proxies=trusted_proxies)
    client = app.test_client()
    first = client.get("/v1/me", headers={"X-Forwarded-For": "198.51.100.7"})
    assert first.status_code == 401
    second = client.get("/v1/me", headers={"X-Forwarded-For": "198.51.100.8"})
    # Without a trusted proxy the header is a client's claim: same address, same budget.
    assert second.status_code == (401 if trusted_proxies else 429)


REDIS_URL = os.environ.get("FACITO_TEST_REDIS_URL")


def test_a_shared_store_gives_all_processes_of_the_api_one_budget(
    runtime: Runtime, auth: Auth, org_a: Org
):
    if not REDIS_URL:
        pytest.skip("set FACITO_TEST_REDIS_URL to count rate limits in Redis")
    # Two apps stand for two processes; a new identity keeps other runs' counters out.
    first, second = (
        build_app(runtime, rate_limit="2/minute", rate_limit_storage_url=REDIS_URL).test_client()
        for _ in range(2)
    )
    headers = auth(org_a, "Organisation.Reader", oid=str(uuid.uuid4()))
    assert first.get("/v1/me", headers=headers).status_code == 200
    answer = second.get("/v1/me", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["RateLimit-Remaining"] == "0"
    refused = first.get("/v1/me", headers=headers)
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Policy"] == "2;w=60"


def test_an_unreachable_store_lets_requests_through(runtime: Runtime, auth: Auth, org_a: Org):
    # Nothing listens on port 9 of this host: every count fails, the API keeps answering.
    app = build_app(runtime, rate_limit="1/minute", rate_limit_storage_url="redis://127.0.0.1:9")
    client = app.test_client()
    for _ in range(3):
        response = client.get("/v1/me", headers=auth(org_a, "Organisation.Reader"))
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers
