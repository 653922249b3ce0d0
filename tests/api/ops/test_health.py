"""Liveness and readiness tell an orchestrator the truth about the process and its database."""

from __future__ import annotations

from pathlib import Path

from facito_admin.app import create_app
from facito_admin.bootstrap import build_runtime
from facito_admin.db.migrations import upgrade


def test_livez_answers_without_auth_or_database(client):
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_database_and_migrations_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"] == "ok"
    assert body["migrations"] == "head"
    assert body["database_ms"] >= 0


def _app_on(settings, url: str):
    custom = settings.model_copy(update={"database_url": url})
    runtime = build_runtime(custom)
    return create_app(custom, runtime=runtime), runtime


def test_readyz_is_not_ready_when_the_schema_is_behind(settings, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url, revision="base")
    app, runtime = _app_on(settings, url)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "latest migration" in response.get_json()["detail"]
    runtime.database.dispose()


def test_readyz_is_not_ready_when_the_database_is_unreachable(settings, tmp_path: Path):
    app, runtime = _app_on(settings, f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    runtime.database.dispose()
