"""The access line of every request: what was asked, what it answered, how long it took, and for
whom (the route template, never the path with its ids)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from facito_admin.logs import ACCESS_LOGGER
from tests.conftest import Org

Auth = Callable[..., dict[str, str]]


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        record.msg
        for record in caplog.records
        if record.name == ACCESS_LOGGER and isinstance(record.msg, dict)
    ]


def test_a_request_logs_its_route_status_duration_and_client(
    client: FlaskClient, auth: Auth, org_a: Org, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    response = client.get(
        f"/v1/organisations/{org_a.id}",
        headers=auth(org_a, "Organisation.Reader"),
        environ_base={"REMOTE_ADDR": "192.0.2.10"},
    )

    assert response.status_code == 200
    (line,) = _access_lines(caplog)
    assert line["method"] == "GET"
    assert line["route"] == "/v1/organisations/<uuid:org_id>"
    assert line["status"] == 200
    assert line["client"] == "192.0.2.10"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert str(org_a.id) not in str(line)


def test_another_organisations_probe_is_logged_as_its_404(
    client: FlaskClient, auth: Auth, org_a: Org, org_b: Org, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    response = client.get(
        f"/v1/organisations/{org_a.id}", headers=auth(org_b, "Organisation.Reader")
    )

    assert response.status_code == 404
    (line,) = _access_lines(caplog)
    assert (line["route"], line["status"]) == ("/v1/organisations/<uuid:org_id>", 404)
