"""Reading what the API wrote, straight from the database."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.runtime import Runtime


def audit_trail(runtime: Runtime, organisation_id: uuid.UUID) -> list[dict[str, Any]]:
    """The organisation's audit events, oldest first, as plain dicts."""
    with runtime.session(organisation_id=organisation_id) as session:
        events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        return [
            {
                "action": event.action,
                "outcome": event.outcome,
                "actor_kind": event.actor_kind,
                "actor_display": event.actor_display,
                "target_id": event.target_id,
                "details": event.details,
            }
            for event in events
        ]


def actions(runtime: Runtime, organisation_id: uuid.UUID) -> list[str]:
    return [event["action"] for event in audit_trail(runtime, organisation_id)]
