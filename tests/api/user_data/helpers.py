"""URLs, bodies and readers shared by the linked-data API tests."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.runtime import Runtime
from tests.conftest import Org

ADMIN = "Organisation.Admin"
READER = "Organisation.Reader"
PRIVACY = "Privacy.Officer"
INTEGRATION = "Integration.ReadWrite"


def batch_url(org: Org) -> str:
    return f"/v1/organisations/{org.id}/data-records/batch"


def data_url(org: Org, account_id: uuid.UUID | str, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/accounts/{account_id}/data{suffix}"


def summary_url(org: Org, account_id: uuid.UUID | str) -> str:
    return f"/v1/organisations/{org.id}/accounts/{account_id}/data-summary"


def item(account_id: uuid.UUID | str, n: int | str = 1, **overrides: Any) -> dict[str, Any]:
    """A valid batch item for record ``n`` of the account."""
    body: dict[str, Any] = {
        "account_id": str(account_id),
        "product": "web-development",
        "category": "content.files",
        "source_system": "crm",
        "external_key": f"rec-{n}",
        "storage": {"subprocessor": "transip", "region": "transip-nl-amsterdam"},
        "content": {"subject": f"file {n}"},
    }
    return body | overrides


def ingest(
    client: FlaskClient, org: Org, headers: dict[str, str], items: list[dict[str, Any]]
) -> Any:
    response = client.post(batch_url(org), json={"records": items}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def events(runtime: Runtime, org: Org, action: str) -> list[AuditEvent]:
    with runtime.session(organisation_id=org.id) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )
