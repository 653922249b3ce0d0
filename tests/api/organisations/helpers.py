"""Reading what the API wrote, straight from the database."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.audit.sealing import seal_organisation
from facito_admin.runtime import Runtime
from facito_admin.support_access.actions import SupportAccessAction


def audit_trail(
    runtime: Runtime, organisation_id: uuid.UUID, *, staff_calls: bool = False
) -> list[dict[str, Any]]:
    """The organisation's audit events, oldest first, as plain dicts; without the access log's
    record of each staff call unless ``staff_calls``.

    What a job recorded just before it ended may still wait for its sealer (it seals right
    after the job's commit): it is sealed first, as the every-minute scan would."""
    seal_organisation(runtime, organisation_id)
    with runtime.session(organisation_id=organisation_id) as session:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        if not staff_calls:
            query = query.where(AuditEvent.action != SupportAccessAction.StaffCall)
        events = session.execute(query).scalars().all()
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
