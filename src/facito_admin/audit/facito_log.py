"""Facito's own audit chain: staff actions that concern no single organisation.

An organisation's log holds what happened to that organisation. Publishing a privacy
statement, or editing a draft of one, happens to none of them, yet the edge requires every
change to be audited in its own transaction; these events go to one more chain, hashed exactly
like an organisation's (audit/chain.py) with "facito" in place of the organisation id. Its
head is one row seeded by migration 0006; appending locks it, so the chain never forks.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from .chain import HASHED_FIELDS, ChainHead, ChainReport, event_hash, verify_chain
from .models import FacitoAuditChainHead, FacitoAuditEvent
from .sealing import AuditChainError
from .service import AUDIT_RECORDED_KEY, _event_fields

FACITO_CHAIN = "facito"
HEAD_ID = 1


def _lock_head(session: Session) -> FacitoAuditChainHead:
    # As audit/service._lock_head: FOR UPDATE on PostgreSQL, the write session's BEGIN
    # IMMEDIATE on SQLite (a read session would fail with "database is locked").
    if session.get_bind().dialect.name == "sqlite":
        options = session.connection().get_execution_options()
        if options.get("sqlite_begin") != "immediate":
            raise AuditChainError("audit events are recorded in write sessions only")
    head = session.execute(
        select(FacitoAuditChainHead)
        .where(FacitoAuditChainHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        raise AuditChainError("Facito's audit chain has no head (migration 0006 seeds it)")
    return head


def lock_facito_chain(session: Session) -> None:
    """Take the chain's lock now: work that checks then writes global state serialises here."""
    _lock_head(session)


def record_facito_event(
    session: Session,
    ctx: RequestContext,
    *,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str,
    details: dict[str, Any] | None = None,
) -> FacitoAuditEvent:
    """Append one event to Facito's chain, in the caller's transaction."""
    head = _lock_head(session)
    fields = _event_fields(
        FACITO_CHAIN,
        ctx,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
        outcome="success",
    )
    fields["seq"] = head.seq + 1
    digest = event_hash(fields, head.hash)
    stored = {k: v for k, v in fields.items() if k != "organisation_id"}
    event = FacitoAuditEvent(**stored, prev_hash=head.hash, hash=digest)
    session.add(event)
    head.seq = fields["seq"]
    head.hash = digest
    session.flush()
    session.info[AUDIT_RECORDED_KEY] = session.info.get(AUDIT_RECORDED_KEY, 0) + 1
    return event


def list_facito_events(
    session: Session, *, action: str | None, limit: int, cursor: str | None
) -> Page[FacitoAuditEvent]:
    """One keyset page of Facito's events, newest first."""
    query = select(FacitoAuditEvent)
    if action:
        query = query.where(FacitoAuditEvent.action == action)
    return paginate(
        session, query, keys=[FacitoAuditEvent.seq], limit=limit, cursor=cursor, descending=True
    )


def verify_facito_chain(session: Session) -> ChainReport:
    """Recompute Facito's whole chain up to its head."""
    head = session.get(FacitoAuditChainHead, HEAD_ID)
    if head is None:
        raise AuditChainError("Facito's audit chain has no head (migration 0006 seeds it)")
    events = session.scalars(
        select(FacitoAuditEvent)
        .where(FacitoAuditEvent.seq <= head.seq)
        .order_by(FacitoAuditEvent.seq)
    )
    rows = (
        {
            **{name: getattr(e, name) for name in HASHED_FIELDS if name != "organisation_id"},
            "organisation_id": FACITO_CHAIN,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in events
    )
    return verify_chain(FACITO_CHAIN, rows, head=ChainHead(seq=head.seq, hash=head.hash))
