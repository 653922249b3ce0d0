"""Calls shared by the support access tests: ask, decide, and read the access log."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update

from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from facito_admin.support_access.models import SupportAccessRequest
from tests.conftest import Org

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"
READER = "Organisation.Reader"
OFFICER = "Privacy.Officer"
ENGINEER = "Support.Engineer"
OPERATOR = "Facito.Operator"
STAFF_URL = "/v1/support-access-requests"


def org_url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}{suffix}"


def ask(client: FlaskClient, org: Org, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """A request for read-only access to ``org`` for 4 hours (201 expected)."""
    response = client.post(STAFF_URL, json=request_body(org, **body), headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def request_body(org: Org, **body: Any) -> dict[str, Any]:
    return {
        "organisation_id": str(org.id),
        "justification": "Customer reports that account sync stalls since Monday",
        "ticket_reference": "SUP-4711",
        "access": "read-only",
        "duration_hours": 4,
    } | body


def decide(
    client: FlaskClient,
    org: Org,
    headers: dict[str, str],
    request_id: str,
    decision: str,
    **body: Any,
) -> Any:
    return client.post(
        org_url(org, f"/support-access-requests/{request_id}/{decision}"),
        json=body,
        headers=headers,
    )


def approve(client: FlaskClient, org: Org, headers: dict[str, str], request_id: str) -> None:
    response = decide(client, org, headers, request_id, "approve")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "active"


def access_log(client: FlaskClient, org: Org, headers: dict[str, str], **query: Any) -> list[Any]:
    response = client.get(org_url(org, "/access-log"), query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def move_times(runtime: Runtime, request_id: str, **times: datetime) -> None:
    """Set a request's times (its expiry, or its grant's end) as if time had passed."""
    with unit_of_work(runtime, organisation_id=None) as session:
        session.execute(
            update(SupportAccessRequest)
            .where(SupportAccessRequest.id == uuid.UUID(request_id))
            .values(**times)
        )
