"""URLs, bodies and small readers shared by the contract and effective-policy API tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from tests.conftest import Org

OPERATOR = "Facito.Operator"
ADMIN = "Organisation.Admin"


def contracts_url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/contracts{suffix}"


def contract_url(org: Org, contract_id: uuid.UUID | str, suffix: str = "") -> str:
    return contracts_url(org, f"/{contract_id}{suffix}")


def policy_url(org: Org) -> str:
    return f"/v1/organisations/{org.id}/effective-policy"


def rfc3339(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def contract_body(
    reference: str = "FAC-2026-001",
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    overrides: dict[str, Any] | None = None,
    products: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A valid contract in force from ``start`` (default: an hour ago), open-ended."""
    return {
        "reference": reference,
        "signed_on": "2026-01-15",
        "effective_from": rfc3339(start or utcnow() - timedelta(hours=1)),
        "effective_to": rfc3339(end) if end else None,
        "products": products or [{"code": "website-hosting", "role": "processor"}],
        "overrides": overrides or {},
    }


def create_contract(
    client: FlaskClient, org: Org, headers: dict[str, str], **kwargs: Any
) -> tuple[dict[str, Any], str]:
    response = client.post(contracts_url(org), json=contract_body(**kwargs), headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json()), str(response.headers["ETag"])


def field_errors(response: Any) -> dict[str, str]:
    body = response.get_json()
    return {error["field"]: error["message"] for error in body.get("errors", [])}
