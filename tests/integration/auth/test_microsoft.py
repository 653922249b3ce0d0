"""App-only tokens from msal against the local HTTPS fake of Entra ID."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest

from facito_admin.auth.microsoft import EntraApps, TokenAcquisitionFailed
from tests.conftest import CLIENT_ID
from tests.fakes.entra import FakeEntra

TENANT = "abababab-0000-4000-8000-0000000000ab"


@pytest.fixture(scope="module")
def module_entra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeEntra]:
    fake = FakeEntra(Path(tmp_path_factory.mktemp("entra")))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def entra(module_entra: FakeEntra) -> FakeEntra:
    module_entra.reset()
    return module_entra


def _apps(entra: FakeEntra, verify: str | bool | None = None) -> EntraApps:
    return EntraApps(
        client_id=CLIENT_ID,
        client_secret="secret",
        authority_host=entra.base_url,
        verify=str(entra.ca_file) if verify is None else verify,
        timeout=5,
    )


def test_a_token_per_tenant_is_cached_and_reused(entra: FakeEntra):
    entra.issue_tokens(TENANT)
    apps = _apps(entra)
    first = apps.acquire_app_token(TENANT)
    second = apps.acquire_app_token(TENANT)
    assert first.access_token == second.access_token
    assert first.tenant_id == TENANT
    assert len(entra.token_requests(TENANT)) == 1
    fresh = apps.acquire_app_token(TENANT, use_cache=False)
    assert fresh.access_token != first.access_token
    assert len(entra.token_requests(TENANT)) == 2


def test_entras_oauth_error_comes_back_as_token_acquisition_failed(entra: FakeEntra):
    entra.refuse_tokens(
        TENANT, 400, {"error": "unauthorized_client", "error_description": "AADSTS700016"}
    )
    with pytest.raises(TokenAcquisitionFailed) as failed:
        _apps(entra).acquire_app_token(TENANT)
    assert failed.value.error == "unauthorized_client"
    assert "AADSTS700016" in failed.value.description


def test_the_configured_ca_bundle_wins_over_requests_ca_bundle(
    entra: FakeEntra, monkeypatch: pytest.MonkeyPatch
):
    entra.issue_tokens(TENANT)
    # requests would let this replace a session's `verify`; certifi does not know our fake CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    assert _apps(entra).acquire_app_token(TENANT).access_token


def test_an_untrusted_certificate_is_an_unreachable_authority(
    entra: FakeEntra, monkeypatch: pytest.MonkeyPatch
):
    entra.issue_tokens(TENANT)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(TokenAcquisitionFailed) as failed:
        _apps(entra, verify=True).acquire_app_token(TENANT)
    assert failed.value.error == "unreachable"
    assert entra.token_requests(TENANT) == []
