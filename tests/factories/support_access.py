"""Support grants written straight to the database: an approved grant in force for a test."""

from __future__ import annotations

import uuid
from datetime import timedelta

from facito_admin.auth.permissions import GrantAccess
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from facito_admin.support_access.models import SupportAccessRequest, SupportAccessStatus
from tests.conftest import FACITO_TENANT


def grant_access(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    object_id: str,
    *,
    access: GrantAccess = GrantAccess.ReadOnly,
    resource_kinds: tuple[str, ...] = (),
    hours: int = 1,
) -> uuid.UUID:
    """An approved grant in force now for the staff member ``object_id`` of Facito's tenant."""
    now = utcnow()
    with unit_of_work(runtime, organisation_id=None) as session:
        row = SupportAccessRequest(
            organisation_id=organisation_id,
            requester_tenant_id=FACITO_TENANT,
            requester_object_id=object_id,
            requester_display="Test Engineer",
            justification="a test needs a grant in force",
            ticket_reference="TEST-1",
            access=access,
            resource_kinds=list(resource_kinds),
            duration_hours=hours,
            status=SupportAccessStatus.active,
            approval_required=True,
            requested_at=now,
            expires_at=now + timedelta(hours=12),
            decided_at=now,
            starts_at=now,
            ends_at=now + timedelta(hours=hours),
        )
        session.add(row)
        session.flush()
        return row.id
