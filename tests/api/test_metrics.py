"""/metrics: Prometheus text, requests grouped by route template, never by organisation."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Org

Auth = Callable[..., dict[str, str]]
ROOT = Path(__file__).resolve().parents[2]


def _request_counts(text: str) -> dict[tuple[str, str, str], float]:
    """(method, url_rule, status) → count, from the duration histogram's _count samples."""
    counts: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "flask_http_request_duration_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_count"):
                labels = sample.labels
                key = (labels["method"], labels["url_rule"], labels["status"])
                counts[key] = counts.get(key, 0) + sample.value
    return counts


def test_requests_are_counted_by_route_template_not_by_organisation(
    client: FlaskClient, auth: Auth, org_a: Org, org_b: Org
):
    client.get(f"/v1/organisations/{org_a.id}", headers=auth(org_a, "Organisation.Reader"))
    client.get(f"/v1/organisations/{org_a.id}", headers=auth(org_b, "Organisation.Reader"))

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    counts = _request_counts(text)
    assert counts[("GET", "/v1/organisations/<uuid:org_id>", "200")] >= 1
    assert counts[("GET", "/v1/organisations/<uuid:org_id>", "404")] >= 1
    for organisation in (org_a, org_b):
        assert str(organisation.id) not in text
        assert organisation.tenant_id not in text
    assert "organisation_id" not in text


def test_metrics_are_not_part_of_the_api_document(client: FlaskClient):
    assert "/metrics" not in client.get("/openapi.json").get_json()["paths"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            errors = server.stderr.read().decode() if server.stderr else ""
            pytest.fail(f"gunicorn exited: {errors}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    pytest.fail("gunicorn did not start in 30 s")


@pytest.mark.slow
def test_several_gunicorn_workers_report_one_sum(tmp_path: Path, database_url: str):
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    port = _free_port()
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "FACITO_ENV": "test",
        "FACITO_DATABASE_URL": database_url,
        "FACITO_INSTANCE_PATH": str(tmp_path / "instance"),
        "FACITO_DEV_ISSUER_ENABLED": "false",
        "FACITO_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Readiness is probed elsewhere than /livez, which this test counts.
        _wait_until_up(f"{base}/openapi.json", server)
        # A sync worker that accepted a silent connection waits on it: meanwhile the other
        # worker serves everything else. Then the silent one speaks, so both have served.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as held:
            time.sleep(0.5)
            for _ in range(10):
                assert requests.get(f"{base}/livez", timeout=5).status_code == 200
            held.sendall(b"GET /livez HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            assert held.recv(100).startswith(b"HTTP/1.1 200")
        worker_pids = {re.sub(r"\D", "", f.stem) for f in multiproc.glob("histogram_*.db")}
        assert len(worker_pids) == 2
        # All 11, whichever worker answers /metrics.
        for _ in range(4):
            text = requests.get(f"{base}/metrics", timeout=5).text
            assert _request_counts(text).get(("GET", "/livez", "200")) == 11
    finally:
        server.terminate()
        server.wait(10)


def test_paths_no_route_matches_share_one_label(client: FlaskClient):
    for path in ("/nope", "/v1/organisations/x/y/z", "/wp-admin.php"):
        assert client.get(path).status_code == 404

    counts = _request_counts(client.get("/metrics").get_data(as_text=True))
    assert counts[("GET", "unmatched", "404")] >= 3
    assert not any(rule in {"None", "/nope", "/wp-admin.php"} for _, rule, _ in counts)
