"""The CLI a new developer uses: migrate, seed the demo, mint a development token that the API
accepts through the same validation path as Entra's tokens, and only while enabled."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from facito_admin.app import create_app
from facito_admin.bootstrap import build_runtime
from facito_admin.cli import main
from facito_admin.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize(
    "command",
    [
        ["dev-token", "--org", "demo"],
        ["demo"],
        ["audit", "verify", "--org", "demo"],
        ["serve", "--port", "1"],
        ["worker"],
    ],
)
def test_a_command_without_a_migrated_database_says_so_in_one_line(
    instance: Path, command: list[str]
):
    result = CliRunner().invoke(main, command)

    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line == (
        f"Error: there is no database at {instance / 'facito.db'}: "
        "run `facito-admin db upgrade` first"
    )
    assert not (instance / "facito.db").exists()


def test_a_database_behind_the_migrations_names_its_revision(instance: Path):
    _run("db", "upgrade", "--revision", "0001")

    result = CliRunner().invoke(main, ["demo"])

    assert result.exit_code == 1
    assert "is at migration 0001, not " in result.output
    assert "run `facito-admin db upgrade` first" in result.output


def test_the_instance_folder_is_absolute_wherever_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("FACITO_INSTANCE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)

    assert load_settings().instance_path == ROOT / "instance"
    relative = load_settings({"instance_path": Path("elsewhere")})
    assert relative.instance_path == tmp_path / "elsewhere"


def test_version_is_the_installed_distribution():
    assert _run("--version") == f"facito-admin, version {version('facito-admin')}"


def test_logs_are_json_unless_a_developer_watches_a_terminal(monkeypatch: pytest.MonkeyPatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert load_settings({"env": "development"}).logs_as_json
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert not load_settings({"env": "development"}).logs_as_json
    assert load_settings({"env": "test"}).logs_as_json
    assert load_settings({"env": "development", "log_json": True}).logs_as_json


def test_the_worker_prints_one_ready_line_and_serves_its_metrics(instance: Path):
    _run("db", "upgrade")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHONUNBUFFERED": "1",
        "FACITO_WORKER_METRICS_PORT": str(port),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "facito_admin.cli", "worker", "--workers", "1", "--no-periodic"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment,
        text=True,
    )
    try:
        assert worker.stdout is not None
        ready = worker.stdout.readline().strip()
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    assert ready == (
        f"facito-admin worker ready: queue facito-admin on sqlite {instance / 'facito-huey.db'}, "
        f"1 worker thread, periodic schedule off, metrics on http://127.0.0.1:{port}/"
    )
    assert metrics.status_code == 200
    for family in ("facito_job_attempt_duration_seconds", "facito_webhook_delivery_seconds"):
        assert f"# TYPE {family} histogram" in metrics.text
    assert "process_cpu_seconds_total" in metrics.text
