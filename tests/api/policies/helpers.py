"""Statement bodies, URLs and readers shared by the privacy statement API tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from facito_admin.audit.models import FacitoAuditEvent
from facito_admin.policies.parameters import STATEMENT_2019_VALUES
from facito_admin.runtime import Runtime

URL = "/v1/privacy-statements"
DPO = "Facito.PrivacyOfficer"
OPERATOR = "Facito.Operator"


def rfc3339(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def rfc3339_micro(instant: datetime) -> str:
    """An instant as the API writes it."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def draft_body(
    label: str, effective_from: datetime, *, material: bool = False, **overrides: Any
) -> dict[str, Any]:
    """A valid draft: the 2019 values with shorter DSR replies, one change-log entry."""
    body: dict[str, Any] = {
        "version_label": label,
        "last_updated": effective_from.date().isoformat(),
        "effective_from": rfc3339(effective_from),
        "parameters": {**STATEMENT_2019_VALUES, "dsr.response_days": 28},
        "changes": [
            {
                "summary": "Data-subject requests are answered within 28 days.",
                "reason": "Faster handling promised to customers.",
                "material": material,
            }
        ],
    }
    return body | overrides


def create_draft(client: FlaskClient, headers: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    label = kwargs.pop("label")
    effective_from = kwargs.pop("effective_from")
    response = client.post(URL, json=draft_body(label, effective_from, **kwargs), headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def publish(client: FlaskClient, statement_id: str, headers: dict[str, str]) -> Any:
    return client.post(f"{URL}/{statement_id}/publish", headers=headers)


def facito_actions(runtime: Runtime) -> list[str]:
    """The actions on Facito's own audit chain, in order."""
    with runtime.session() as session:
        return list(session.scalars(select(FacitoAuditEvent.action).order_by(FacitoAuditEvent.seq)))
