"""Audit events recorded through the real service, in committed units of work."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.audit.sealing import SEAL_AFTER_COMMIT_KEY
from facito_admin.audit.service import record_event
from facito_admin.auth.context import Principal, PrincipalKind, RequestContext
from facito_admin.auth.permissions import AppRole, permissions_for
from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime


def admin_ctx(
    organisation_id: uuid.UUID, *, oid: str | None = None, display: str = "Test Admin"
) -> RequestContext:
    """The context of an organisation administrator, as a request would build it."""
    roles = frozenset({AppRole.OrganisationAdmin})
    principal = Principal(
        kind=PrincipalKind.organisation_user,
        tenant_id="aaaaaaaa-0000-4000-8000-00000000000a",
        object_id=oid or str(uuid.uuid4()),
        display_name=display,
        roles=roles,
        permissions=permissions_for(roles),
        organisation_id=organisation_id,
    )
    return RequestContext(principal=principal, request_id=f"test-{uuid.uuid4().hex[:12]}")


def record_events(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    count: int,
    *,
    action: str = "org:domain:claim",
    target_id: str | None = None,
    oid: str | None = None,
    display: str = "Test Admin",
    details: dict[str, Any] | None = None,
) -> list[AuditEvent]:
    """Record ``count`` events in one committed transaction; return them as sealed (detached)."""
    ctx = admin_ctx(organisation_id, oid=oid, display=display)
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        ids = [
            record_event(
                session,
                ctx,
                action=action,
                target_type="domain",
                target_id=target_id or str(uuid.uuid4()),
                details={"n": n, **(details or {})},
            )
            for n in range(count)
        ]
    # The commit sealed them (audit/sealing.py): read them back from the chain.
    with runtime.session(organisation_id=organisation_id) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.seq)
            )
        )


def record_unsealed(runtime: Runtime, organisation_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    """Record ``count`` events and commit them as a sealer that died would leave them: waiting."""
    ctx = admin_ctx(organisation_id)
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        ids = [
            record_event(
                session, ctx, action="org:domain:claim", target_type="domain", target_id=str(n)
            )
            for n in range(count)
        ]
        # What the sealer after this commit would act on (audit/sealing.py): not this time.
        session.info.pop(SEAL_AFTER_COMMIT_KEY)
    return ids
