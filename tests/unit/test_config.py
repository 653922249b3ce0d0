"""Settings come from FACITO_* variables; a bad value stops the start and names the variable."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from facito_admin.config import (
    DEV_CLIENT_ID,
    DEV_FACITO_TENANT_ID,
    ConfigurationError,
    Environment,
    load_settings,
)

GOOD_PRODUCTION = {
    "FACITO_ENV": "production",
    "FACITO_DATABASE_URL": "postgresql+psycopg://facito_app@db/facito",
    "FACITO_SECRET_KEY": "s" * 40,
    "FACITO_CLIENT_ID": "5f0f5a5e-1c1c-4c1c-8c1c-0000000000c1",
    "FACITO_FACITO_TENANT_ID": "fac17000-0000-4000-8000-000000000001",
    "FACITO_PUBLIC_BASE_URL": "https://admin.facito.example",
    "FACITO_AUDIT_SIGNING_KEY": "/run/secrets/facito-audit-key.pem",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the variables a test sets are seen (the suite's own FACITO_TEST_* stay harmless)."""
    for name in list(os.environ):
        if name.startswith("FACITO_"):
            monkeypatch.delenv(name)
    yield


def _set(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_defaults_describe_a_runnable_development_service():
    settings = load_settings()
    assert settings.env is Environment.development
    assert settings.uses_dev_issuer
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.rate_limit_storage_url == "memory://"


def test_variables_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    _set(
        monkeypatch,
        {
            "FACITO_RATE_LIMIT": "10/second;100/minute",
            "FACITO_RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379",
            "FACITO_AUTHORITY_HOST": "https://login.example.test/",
            "FACITO_CLIENT_ID": "5F0F5A5E-1C1C-4C1C-8C1C-0000000000C1",
        },
    )
    settings = load_settings()
    assert settings.rate_limit == "10/second;100/minute"
    assert settings.rate_limit_storage_url == "redis://127.0.0.1:6379"
    assert settings.authority_host == "https://login.example.test"
    assert settings.client_id == "5f0f5a5e-1c1c-4c1c-8c1c-0000000000c1"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FACITO_ENV", "staging"),
        ("FACITO_CLIENT_ID", "not-a-guid"),
        ("FACITO_FACITO_TENANT_ID", "contoso.onmicrosoft.com"),
        ("FACITO_AUTHORITY_HOST", "login.microsoftonline.com"),
        ("FACITO_GRAPH_BASE_URL", "ftp://graph"),
        ("FACITO_JWKS_CACHE_SECONDS", "a day"),
        ("FACITO_JWKS_CACHE_SECONDS", "5"),
        ("FACITO_CLOCK_LEEWAY_SECONDS", "3600"),
        ("FACITO_HTTP_TIMEOUT_SECONDS", "0"),
        ("FACITO_LOG_JSON", "perhaps"),
        ("FACITO_RATE_LIMIT", "lots"),
        ("FACITO_TRUSTED_PROXIES", "-1"),
        ("FACITO_RATE_LIMIT_STORAGE_URL", "127.0.0.1:6379"),
        ("FACITO_RATE_LIMIT_STORAGE_URL", "postgresql://db/facito"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert f"{variable}:" in str(raised.value)


def test_several_bad_values_are_all_named(monkeypatch: pytest.MonkeyPatch):
    _set(monkeypatch, {"FACITO_ENV": "staging", "FACITO_RATE_LIMIT": "lots"})
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert "FACITO_ENV:" in str(raised.value)
    assert "FACITO_RATE_LIMIT:" in str(raised.value)


def test_secrets_are_masked_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch):
    _set(monkeypatch, GOOD_PRODUCTION)
    settings = load_settings()
    assert "s" * 40 not in repr(settings)
    assert settings.secret_key.get_secret_value() == "s" * 40


def test_a_complete_production_configuration_starts(monkeypatch: pytest.MonkeyPatch):
    _set(monkeypatch, GOOD_PRODUCTION)
    settings = load_settings()
    assert settings.env is Environment.production
    assert not settings.uses_dev_issuer


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"FACITO_DEV_ISSUER_ENABLED": "true"}, "FACITO_DEV_ISSUER_ENABLED"),
        ({"FACITO_DATABASE_URL": ""}, "FACITO_DATABASE_URL"),
        ({"FACITO_SECRET_KEY": "too-short"}, "FACITO_SECRET_KEY"),
        ({"FACITO_SECRET_KEY": ""}, "FACITO_SECRET_KEY"),
        ({"FACITO_CLIENT_ID": DEV_CLIENT_ID}, "FACITO_CLIENT_ID"),
        ({"FACITO_FACITO_TENANT_ID": DEV_FACITO_TENANT_ID}, "FACITO_FACITO_TENANT_ID"),
        ({"FACITO_AUDIT_SIGNING_KEY": ""}, "FACITO_AUDIT_SIGNING_KEY"),
        (
            {"FACITO_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"},
            "FACITO_WEBHOOK_ALLOW_PRIVATE_TARGETS",
        ),
    ],
)
def test_production_refuses_development_shortcuts(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, str], variable: str
):
    _set(monkeypatch, GOOD_PRODUCTION | change)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert variable in str(raised.value)
    assert "production" in str(raised.value)


def test_production_names_every_missing_setting_at_once(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FACITO_ENV", "production")
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    message = str(raised.value)
    for variable in (
        "FACITO_DATABASE_URL",
        "FACITO_SECRET_KEY",
        "FACITO_CLIENT_ID",
        "FACITO_FACITO_TENANT_ID",
        "FACITO_AUDIT_SIGNING_KEY",
    ):
        assert variable in message


def test_the_development_issuer_is_off_by_default_only_in_production(
    monkeypatch: pytest.MonkeyPatch,
):
    assert load_settings({"env": "test"}).uses_dev_issuer
    assert not load_settings({"env": "test", "dev_issuer_enabled": False}).uses_dev_issuer
    _set(monkeypatch, GOOD_PRODUCTION)
    assert not load_settings().uses_dev_issuer
