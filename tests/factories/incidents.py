"""Incidents recorded through the real service, in committed units of work (each affected
organisation is told as the unit commits, as after a request)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from facito_admin.auth.context import SYSTEM_PRINCIPAL, RequestContext
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.incidents import service
from facito_admin.runtime import Runtime

INCIDENT_EVENTS = ["incident.reported", "incident.updated", "incident.closed"]


def incident_body(organisation_ids: Sequence[uuid.UUID], **overrides: Any) -> dict[str, Any]:
    """A valid body of POST /v1/incidents."""
    detected = utcnow() - timedelta(hours=2)
    return {
        "title": "Backup share readable from the internet",
        "description": "A misconfigured storage share exposed nightly backups for six hours.",
        "occurred_at": (detected - timedelta(hours=6)).isoformat(),
        "detected_at": detected.isoformat(),
        "data_categories": ["identity.contact"],
        "measures": "Share closed; access logs under review; keys rotated.",
        "organisation_ids": [str(i) for i in organisation_ids],
    } | overrides


def record_incident(runtime: Runtime, organisation_ids: Sequence[uuid.UUID]) -> uuid.UUID:
    """An incident affecting ``organisation_ids``, each told of it once this returns."""
    ctx = RequestContext(principal=SYSTEM_PRINCIPAL, request_id="test-incident")
    body = incident_body(organisation_ids)
    with unit_of_work(runtime, organisation_id=None) as session:
        record = service.record_incident(
            session,
            ctx,
            title=body["title"],
            description=body["description"],
            occurred_at=None,
            detected_at=utcnow() - timedelta(hours=1),
            data_categories=body["data_categories"],
            measures=body["measures"],
            organisation_ids=list(organisation_ids),
        )
        return record.incident.id
