"""The CLI a new developer uses: migrate, seed the demo, mint a development token that the API
accepts through the same validation path as Entra's tokens, and only while enabled."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from facito_admin.app import create_app
from facito_admin.bootstrap import build_runtime
from facito_admin.cli import main
from facito_admin.config import load_settings


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FACITO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("FACITO_ENV", "development")
    monkeypatch.setenv("FACITO_LOG_LEVEL", "WARNING")
    monkeypatch.delenv("FACITO_DATABASE_URL", raising=False)
    return tmp_path


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_dev_token_for_the_demo_organisation_is_accepted_by_the_api(instance: Path):
    _run("db", "upgrade")
    _run("demo")
    _run("demo")  # idempotent
    token = _run("dev-token", "--org", "demo", "--role", "Organisation.Admin").splitlines()[-1]
    operator = _run("dev-token", "--role", "Facito.Operator").splitlines()[-1]

    settings = load_settings({"instance_path": instance, "log_level": "WARNING"})
    runtime = build_runtime(settings)
    client = create_app(settings, runtime=runtime).test_client()
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.get_data(as_text=True)
    assert me.get_json()["kind"] == "organisation_user"
    assert "Organisation.Admin" in me.get_json()["roles"]
    listed = client.get("/v1/organisations", headers={"Authorization": f"Bearer {operator}"})
    assert [o["slug"] for o in listed.get_json()["items"]] == ["demo"]

    # The same token is refused once the development issuer is switched off.
    closed = load_settings(
        {"instance_path": instance, "dev_issuer_enabled": False, "log_level": "WARNING"}
    )
    closed_client = create_app(closed, runtime=build_runtime(closed)).test_client()
    refused = closed_client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.get_json()["detail"] == "invalid token: unknown signing key"
    runtime.database.dispose()


def test_dev_token_refuses_unknown_roles_and_organisations(instance: Path):
    _run("db", "upgrade")
    runner = CliRunner()
    bad_role = runner.invoke(main, ["dev-token", "--org", "demo", "--role", "God.Mode"])
    assert bad_role.exit_code != 0
    assert "God.Mode" in bad_role.output
    no_org = runner.invoke(main, ["dev-token", "--org", "nope", "--role", "Organisation.Admin"])
    assert no_org.exit_code != 0
    assert "no organisation 'nope'" in no_org.output


def test_production_refuses_dev_tokens_and_demo(instance: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FACITO_ENV", "production")
    monkeypatch.setenv("FACITO_DATABASE_URL", f"sqlite:///{instance / 'prod.db'}")
    monkeypatch.setenv("FACITO_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FACITO_CLIENT_ID", "6a1d5c3e-0000-4000-8000-000000000123")
    monkeypatch.setenv("FACITO_FACITO_TENANT_ID", "6a1d5c3e-0000-4000-8000-000000000456")
    monkeypatch.setenv("FACITO_PUBLIC_BASE_URL", "https://admin.facito.example")
    monkeypatch.setenv("FACITO_AUDIT_SIGNING_KEY", str(instance / "audit-key.pem"))
    result = CliRunner().invoke(main, ["dev-token", "--role", "Facito.Operator"])
    assert result.exit_code != 0
    assert "development issuer is disabled" in result.output
    monkeypatch.setenv("FACITO_DEV_ISSUER_ENABLED", "true")
    refused = CliRunner().invoke(main, ["dev-token", "--role", "Facito.Operator"])
    assert refused.exit_code != 0
    assert "FACITO_DEV_ISSUER_ENABLED" in refused.output
