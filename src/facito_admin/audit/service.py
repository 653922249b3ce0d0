"""Recording audit events in the caller's transaction, and querying and exporting the log.

Linking recorded events into the chain is in sealing.py, verification in verification.py,
pruning in pruning.py.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, event, func, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..db.base import new_id, utcnow
from ..db.session import SessionSource
from ..db.tenancy import require_organisation, scoped_write
from ..errors import NotFound, ValidationFailed
from . import export
from .chain import canonical_details, clean_text, genesis_hash
from .models import AuditChainHead, AuditEvent, AuditPendingEvent
from .sealing import SEAL_AFTER_COMMIT_KEY, AuditChainError, seal_with_change

# Counted per session: the edge refuses to commit a mutating request that recorded no event.
AUDIT_RECORDED_KEY = "audit_events_recorded"
_RECORDED_AT_KEY = "audit_recorded_at"
_POSITION_KEY = "audit_next_position"
EXPORT_BATCH = 500


@dataclass(frozen=True)
class EventFilter:
    """What a caller may narrow the log to; every field is optional."""

    actor_oid: str | None = None
    # Exact, or a prefix with a trailing `*`: `org:federation:*`.
    action: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def events_recorded(session: Session) -> bool:
    """Whether the session recorded an audit event (the edge's check before it commits)."""
    return int(session.info.get(AUDIT_RECORDED_KEY, 0)) > 0


def start_chain(session: Session) -> None:
    """Create the chain head of the session's (new) organisation."""
    organisation_id = require_organisation(session)
    session.add(
        AuditChainHead(
            organisation_id=organisation_id, seq=0, hash=genesis_hash(str(organisation_id))
        )
    )
    session.flush()


def require_audit_chain(session: Session) -> uuid.UUID:
    """The session's organisation, or NotFound when it has no audit chain (no organisation)."""
    # Staff may reach any organisation id: one that does not exist is a 404, not an empty log.
    # Every organisation's chain starts when it is created (start_chain).
    organisation_id = require_organisation(session)
    if session.get(AuditChainHead, organisation_id) is None:
        raise NotFound("no such organisation")
    return organisation_id


def _require_write_session(session: Session) -> None:
    # SQLite: a deferred (read) session that writes later fails with "database is locked"
    # under concurrency instead of waiting; events are recorded with changes, in write sessions.
    if session.get_bind().dialect.name == "sqlite":
        options = session.connection().get_execution_options()
        if options.get("sqlite_begin") != "immediate":
            raise AuditChainError("audit events are recorded in write sessions only")


def _caller_fields(organisation_id: uuid.UUID | str, ctx: RequestContext) -> dict[str, Any]:
    """What every event of one caller has in common."""
    principal = ctx.principal
    return {
        "organisation_id": organisation_id,
        "actor_kind": clean_text(principal.kind.value),
        "actor_tid": clean_text(principal.tenant_id),
        "actor_oid": clean_text(principal.object_id),
        "actor_display": clean_text(principal.display_name)[:200],
        "request_id": clean_text(ctx.request_id),
    }


def _own_fields(
    *, action: str, target_type: str, target_id: uuid.UUID | str, details: Any, outcome: str
) -> dict[str, Any]:
    """What is one event's own; ``details`` already canonical (chain.canonical_details)."""
    return {
        "id": new_id(),
        "occurred_at": utcnow(),
        "action": clean_text(str(action)),
        "target_type": clean_text(target_type),
        "target_id": clean_text(str(target_id)),
        "outcome": clean_text(outcome),
        "details": details,
    }


def _event_fields(
    organisation_id: uuid.UUID | str,
    ctx: RequestContext,
    *,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str,
    details: dict[str, Any] | None,
    outcome: str,
) -> dict[str, Any]:
    # Every value is stored exactly as it is hashed (cleaned text, canonical JSON details,
    # microsecond UTC time), so a row read back from either database hashes the same.
    return _caller_fields(organisation_id, ctx) | _own_fields(
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=canonical_details(details),
        outcome=outcome,
    )


@dataclass(frozen=True)
class EventSpec:
    """One event to record: what record_event takes, minus session and caller."""

    action: str
    target_type: str
    target_id: uuid.UUID | str
    details: dict[str, Any] | None = None
    outcome: str = "success"


def _in_transaction_order(session: Session, count: int) -> tuple[datetime, int]:
    """The transaction's recording instant and the first of ``count`` positions in it."""
    recorded_at = session.info.setdefault(_RECORDED_AT_KEY, utcnow())
    first = int(session.info.get(_POSITION_KEY, 0))
    session.info[_POSITION_KEY] = first + count
    return recorded_at, first


# Built once: every audited change runs it (and the edge's hooks remember what it writes).
_RECORD = insert(AuditPendingEvent)


def _record(
    session: Session, ctx: RequestContext, events: Sequence[EventSpec], *, seal: bool = False
) -> list[uuid.UUID]:
    organisation_id = require_organisation(session)
    _require_write_session(session)
    # What the caller's events share is cleaned once, and details once per dict: a sync page
    # passes one dict to all its creations with the same fields (directory_sync/apply.py).
    shared = _caller_fields(organisation_id, ctx)
    canonical: dict[int, dict[str, Any]] = {}
    rows = []
    for spec in events:
        details = spec.details
        if id(details) not in canonical:
            canonical[id(details)] = canonical_details(details)
        own = _own_fields(
            action=spec.action,
            target_type=spec.target_type,
            target_id=spec.target_id,
            details=canonical[id(details)],
            outcome=spec.outcome,
        )
        rows.append(shared | own)
    if seal:
        seal_with_change(session, rows)
    else:
        recorded_at, first = _in_transaction_order(session, len(rows))
        for offset, row in enumerate(rows):
            row["recorded_at"], row["position"] = recorded_at, first + offset
        scoped_write(session, _RECORD, rows)
        session.info[SEAL_AFTER_COMMIT_KEY] = True
    session.info[AUDIT_RECORDED_KEY] = session.info.get(AUDIT_RECORDED_KEY, 0) + len(rows)
    return [row["id"] for row in rows]


def record_events(
    session: Session, ctx: RequestContext, events: Sequence[EventSpec], *, seal: bool = False
) -> int:
    """Record events of one caller with their change, in the caller's transaction; how many.

    The events wait in ``audit_pending_events`` until the sealer links them into the chain
    (audit/sealing.py), right after this transaction commits: recording takes no lock, so
    writers of one organisation do not queue behind each other's transactions. With ``seal``
    (bulk writers, as the last write before their commit) they are linked at once instead,
    and the chain head stays locked until the commit (sealing.seal_with_change).
    """
    if not events:
        return 0
    return len(_record(session, ctx, events, seal=seal))


def record_event(
    session: Session,
    ctx: RequestContext,
    *,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str,
    details: dict[str, Any] | None = None,
    outcome: str = "success",
) -> uuid.UUID:
    """Record one event with its change, in the caller's transaction; its id (see record_events)."""
    spec = EventSpec(action, target_type, target_id, details=details, outcome=outcome)
    return _record(session, ctx, [spec])[0]


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_order(session: Session, transaction: SessionTransaction) -> None:
    # A new transaction starts its own order; a rolled-back one leaves nothing to seal.
    if transaction.parent is None:
        session.info.pop(_RECORDED_AT_KEY, None)
        session.info.pop(_POSITION_KEY, None)
        session.info.pop(SEAL_AFTER_COMMIT_KEY, None)


def events_query(event_filter: EventFilter | None = None) -> Select[AuditEvent]:
    """The filtered events of the session's organisation (unordered)."""
    f = event_filter or EventFilter()
    for name, instant in (("since", f.since), ("until", f.until)):
        if instant is not None and instant.tzinfo is None:
            raise ValidationFailed(
                "timestamps need a timezone", errors={name: ["give a timezone, e.g. Z"]}
            )
    query = select(AuditEvent)
    if f.actor_oid:
        query = query.where(AuditEvent.actor_oid == f.actor_oid)
    if f.action and f.action.endswith("*"):
        prefix = f.action[:-1]
        # LIKE finds candidates through the (organisation_id, action) index; substr makes the
        # match exact where SQLite's LIKE ignores case.
        query = query.where(
            AuditEvent.action.startswith(prefix, autoescape=True),
            func.substr(AuditEvent.action, 1, len(prefix)) == prefix,
        )
    elif f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.target_id:
        query = query.where(AuditEvent.target_id == f.target_id)
    if f.since:
        query = query.where(AuditEvent.occurred_at >= f.since)
    if f.until:
        query = query.where(AuditEvent.occurred_at < f.until)
    return query


def list_events(
    session: Session,
    *,
    event_filter: EventFilter,
    limit: int,
    cursor: str | None,
    descending: bool = True,
) -> Page[AuditEvent]:
    """One keyset page of the organisation's events, newest first unless asked otherwise."""
    require_audit_chain(session)
    return paginate(
        session,
        events_query(event_filter),
        keys=[AuditEvent.seq],
        limit=limit,
        cursor=cursor,
        descending=descending,
    )


def _batch(
    session: Session,
    query: Select[AuditEvent],
    *,
    after: int | None,
    limit: int,
    descending: bool,
) -> list[AuditEvent]:
    if after is not None:
        query = query.where(AuditEvent.seq < after if descending else AuditEvent.seq > after)
    order = AuditEvent.seq.desc() if descending else AuditEvent.seq
    rows = list(session.execute(query.order_by(order).limit(limit)).scalars())
    # Detach what we hand out so the identity map does not grow with the log. Only these
    # rows: the caller's other objects stay in its session (and flushed rows stay written).
    for row in rows:
        session.expunge(row)
    return rows


def iter_events(
    session: Session,
    query: Select[AuditEvent],
    *,
    batch: int = EXPORT_BATCH,
    descending: bool = False,
) -> Iterator[AuditEvent]:
    """Events of ``query`` in `seq` order, in keyset batches of detached rows (constant memory)."""
    after: int | None = None
    while True:
        rows = _batch(session, query, after=after, limit=batch, descending=descending)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def stream_events(
    database: SessionSource,
    *,
    organisation_id: uuid.UUID,
    event_filter: EventFilter,
    descending: bool = False,
    batch: int = EXPORT_BATCH,
) -> Iterator[AuditEvent]:
    """The organisation's events for an export, each batch read in a short session of its own.

    An export outlives its request: the edge commits and closes the request's session before a
    streamed body is sent. So the stream opens its own sessions, bound to the organisation
    like every session (ORM criteria; on PostgreSQL app.organisation_id for row-level
    security), one per batch so that a slow client holds no connection or SQLite read lock
    while it reads. The log is append-only and the export stops at the chain head it saw
    first, so the batches together are one consistent view: the log as of that moment.
    """
    query = events_query(event_filter)
    after: int | None = None
    while True:
        with database.session(organisation_id=organisation_id) as session:
            if after is None:
                require_audit_chain(session)
                last = session.scalar(select(AuditChainHead.seq)) or 0
                query = query.where(AuditEvent.seq <= last)
                after = last + 1 if descending else 0
            rows = _batch(session, query, after=after, limit=batch, descending=descending)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def export_events(
    database: SessionSource,
    *,
    organisation_id: uuid.UUID,
    event_filter: EventFilter,
    fmt: str,
    descending: bool = False,
) -> Iterator[bytes]:
    """The organisation's events as JSON lines or CSV, produced while the client reads."""
    events = stream_events(
        database,
        organisation_id=organisation_id,
        event_filter=event_filter,
        descending=descending,
    )
    body = export.render(fmt, events)
    # The first chunk is read now, inside the request: a database that fails at the start
    # still gets a proper error answer instead of a 200 with a broken body.
    first = next(body, b"")
    return itertools.chain((first,), body)
