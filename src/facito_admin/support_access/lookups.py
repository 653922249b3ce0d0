"""What the HTTP edge asks of support access: the grant in force, and recording a staff call.

Installed on the edge by the app factory (http/transparency.StaffAccess), so that the edge,
which imports no domain, decides reach (http/access.py) with this domain's rows.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.facito_log import record_facito_event
from ..audit.service import record_event
from ..auth.context import Principal, RequestContext, StaffGrant
from ..auth.permissions import grant_permissions
from ..db.base import utcnow
from ..http import StaffAccess, StaffCall
from ..tenants.models import Organisation
from .actions import SupportAccessAction
from .models import SupportAccessRequest, SupportAccessStatus


def find_grant(
    session: Session, principal: Principal, organisation_id: uuid.UUID
) -> StaffGrant | None:
    """The grant in force now for this staff member in this organisation (one indexed read)."""
    now = utcnow()
    row = session.scalars(
        select(SupportAccessRequest)
        .where(
            SupportAccessRequest.requester_tenant_id == principal.tenant_id,
            SupportAccessRequest.requester_object_id == principal.object_id,
            SupportAccessRequest.organisation_id == organisation_id,
            SupportAccessRequest.status == SupportAccessStatus.active,
            SupportAccessRequest.starts_at <= now,
            SupportAccessRequest.ends_at > now,
        )
        .limit(1)
    ).first()
    if row is None or row.ends_at is None:
        return None
    return StaffGrant(
        id=row.id,
        permissions=grant_permissions(row.access, frozenset(row.resource_kinds)),
        justification=row.justification,
        ticket_reference=row.ticket_reference,
        ends_at=row.ends_at,
    )


def record_staff_call(session: Session, call: StaffCall) -> None:
    """One event for one staff call: who, what, the answer, under which grant and why; on the
    organisation's chain, or on Facito's once the organisation's data is deleted."""
    grant = call.grant
    ctx = RequestContext(principal=call.principal, request_id=call.request_id)
    details = {
        "method": call.method,
        "path": call.path[:500],
        "route": call.route,
        "status": call.status,
        "grant_id": None if grant is None else str(grant.id),
        "justification": None if grant is None else grant.justification,
        "ticket_reference": None if grant is None else grant.ticket_reference,
        "roles": sorted(role.value for role in call.principal.roles),
    }
    deleted = session.scalar(
        select(Organisation.data_deleted_at).where(Organisation.id == call.organisation_id)
    )
    if deleted is not None:
        record_facito_event(
            session,
            ctx,
            action=SupportAccessAction.StaffCallAfterDeletion,
            target_type="organisation",
            target_id=call.organisation_id,
            details=details | {"outcome": "success" if call.status < 400 else "refused"},
        )
        return
    record_event(
        session,
        ctx,
        action=SupportAccessAction.StaffCall,
        target_type="support_access_grant" if grant else "organisation",
        target_id=grant.id if grant else call.organisation_id,
        outcome="success" if call.status < 400 else "refused",
        details=details,
    )


STAFF_ACCESS = StaffAccess(find_grant=find_grant, record_call=record_staff_call)
