"""Recording audit events in the caller's transaction, and querying and verifying the chain."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..auth.context import RequestContext
from ..db.base import new_id, utcnow
from ..db.tenancy import require_organisation
from .chain import HASHED_FIELDS, BrokenLink, ChainReport, event_hash, genesis_hash, verify_chain
from .models import AuditChainHead, AuditEvent

AUDIT_RECORDED_KEY = "audit_events_recorded"


def start_chain(session: Session) -> None:
    """Create the chain head of the session's (new) organisation."""
    organisation_id = require_organisation(session)
    session.add(
        AuditChainHead(
            organisation_id=organisation_id, seq=0, hash=genesis_hash(str(organisation_id))
        )
    )
    session.flush()


def record_event(
    session: Session,
    ctx: RequestContext,
    *,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str,
    details: dict[str, Any] | None = None,
    outcome: str = "success",
) -> AuditEvent:
    """Append one event to the organisation's chain, in the caller's transaction."""
    organisation_id = require_organisation(session)
    # The row lock serialises appenders of one organisation (SQLite: BEGIN IMMEDIATE already
    # holds the database write lock), so two writers can never link to the same predecessor.
    head = session.execute(select(AuditChainHead).with_for_update()).scalar_one()
    principal = ctx.principal
    fields: dict[str, Any] = {
        "id": new_id(),
        "organisation_id": organisation_id,
        "seq": head.seq + 1,
        "occurred_at": utcnow(),
        "actor_kind": principal.kind.value,
        "actor_tid": principal.tenant_id,
        "actor_oid": principal.object_id,
        "actor_display": principal.display_name[:200],
        "action": str(action),
        "target_type": target_type,
        "target_id": str(target_id),
        "outcome": outcome,
        "request_id": ctx.request_id,
        "details": details or {},
    }
    digest = event_hash(fields, head.hash)
    event = AuditEvent(**fields, prev_hash=head.hash, hash=digest)
    session.add(event)
    head.seq = fields["seq"]
    head.hash = digest
    session.flush()
    session.info[AUDIT_RECORDED_KEY] = session.info.get(AUDIT_RECORDED_KEY, 0) + 1
    return event


def events_query(
    *,
    actor_oid: str | None = None,
    action: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[AuditEvent]:
    """The filtered events of the session's organisation, oldest first."""
    query = select(AuditEvent)
    if actor_oid:
        query = query.where(AuditEvent.actor_oid == actor_oid)
    if action:
        # A trailing `*` matches a prefix: `org:federation:*`.
        if action.endswith("*"):
            query = query.where(AuditEvent.action.startswith(action[:-1], autoescape=True))
        else:
            query = query.where(AuditEvent.action == action)
    if target_id:
        query = query.where(AuditEvent.target_id == target_id)
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    return query


def iter_events(
    session: Session, query: Select[AuditEvent], *, batch: int = 500
) -> Iterator[AuditEvent]:
    """Stream events in `seq` order, in keyset batches (constant memory for exports)."""
    last_seq = 0
    while True:
        rows = (
            session.execute(
                query.where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        last_seq = rows[-1].seq
        session.expunge_all()


def verify_organisation_chain(session: Session) -> ChainReport:
    """Recompute the whole chain of the session's organisation, including its head."""
    organisation_id = require_organisation(session)
    events = (
        {**{f: getattr(e, f) for f in HASHED_FIELDS}, "prev_hash": e.prev_hash, "hash": e.hash}
        for e in iter_events(session, select(AuditEvent))
    )
    report = verify_chain(str(organisation_id), events)
    if report.first_broken is None:
        head = session.execute(select(AuditChainHead)).scalar_one_or_none()
        if head is not None and (head.seq != report.checked or head.hash != report.last_hash):
            return ChainReport(
                report.checked,
                BrokenLink(report.checked + 1, "", "events-missing-after-last"),
                report.last_hash,
            )
    return report
