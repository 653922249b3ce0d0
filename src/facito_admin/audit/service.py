"""Recording audit events in the caller's transaction, and querying and exporting the log.

Verification of the chain is in verification.py, pruning in pruning.py.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..db.base import new_id, utcnow
from ..db.session import SessionSource
from ..db.tenancy import REUSED_STATEMENT, require_organisation
from ..errors import NotFound, ValidationFailed
from . import export
from .chain import canonical_details, clean_text, event_hash, genesis_hash
from .models import AuditChainHead, AuditEvent

# Counted per session: the edge refuses to commit a mutating request that recorded no event.
AUDIT_RECORDED_KEY = "audit_events_recorded"
EXPORT_BATCH = 500


class AuditChainError(RuntimeError):
    """A programming error around the chain: no head, or recording in a read-only session."""


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


# Built once (every mutating request runs it); the tenancy guard keeps its scoped form.
_HEAD_FOR_UPDATE = (
    select(AuditChainHead)
    .with_for_update()
    # A session reused across transactions (expire_on_commit=False) would otherwise hand back
    # its stale identity-map copy and link two events to the same predecessor.
    .execution_options(populate_existing=True, **{REUSED_STATEMENT: True})
)


def _lock_head(session: Session) -> AuditChainHead:
    # PostgreSQL: FOR UPDATE on the organisation's one head row serialises its appenders (read
    # committed re-reads the row once the lock is granted); other organisations do not wait.
    # SQLite renders no FOR UPDATE: the write session's BEGIN IMMEDIATE already holds the
    # database write lock, so a deferred (read) session must never get here, it would fail
    # with "database is locked" instead of waiting.
    if session.get_bind().dialect.name == "sqlite":
        options = session.connection().get_execution_options()
        if options.get("sqlite_begin") != "immediate":
            raise AuditChainError("audit events are recorded in write sessions only")
    head = session.execute(_HEAD_FOR_UPDATE).scalar_one_or_none()
    if head is None:
        raise AuditChainError("the organisation has no audit chain (start_chain)")
    return head


def _event_fields(
    organisation_id: uuid.UUID | str,
    seq: int,
    ctx: RequestContext,
    *,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str,
    details: dict[str, Any] | None,
    outcome: str,
) -> dict[str, Any]:
    principal = ctx.principal
    # Every value is stored exactly as it is hashed (cleaned text, canonical JSON details,
    # microsecond UTC time), so a row read back from either database hashes the same.
    return {
        "id": new_id(),
        "organisation_id": organisation_id,
        "seq": seq,
        "occurred_at": utcnow(),
        "actor_kind": clean_text(principal.kind.value),
        "actor_tid": clean_text(principal.tenant_id),
        "actor_oid": clean_text(principal.object_id),
        "actor_display": clean_text(principal.display_name)[:200],
        "action": clean_text(str(action)),
        "target_type": clean_text(target_type),
        "target_id": clean_text(str(target_id)),
        "outcome": clean_text(outcome),
        "request_id": clean_text(ctx.request_id),
        "details": canonical_details(details),
    }


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
    head = _lock_head(session)
    fields = _event_fields(
        organisation_id,
        head.seq + 1,
        ctx,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
        outcome=outcome,
    )
    digest = event_hash(fields, head.hash)
    event = AuditEvent(**fields, prev_hash=head.hash, hash=digest)
    session.add(event)
    head.seq = fields["seq"]
    head.hash = digest
    session.flush()
    session.info[AUDIT_RECORDED_KEY] = session.info.get(AUDIT_RECORDED_KEY, 0) + 1
    return event


@dataclass(frozen=True)
class EventSpec:
    """One event of :func:`record_events`: what record_event takes, minus session and caller."""

    action: str
    target_type: str
    target_id: uuid.UUID | str
    details: dict[str, Any] | None = None
    outcome: str = "success"


def record_events(session: Session, ctx: RequestContext, events: Sequence[EventSpec]) -> int:
    """Append many events of one caller to the chain with one bulk INSERT; how many.

    For bulk work (a directory sync page records an event per changed account): the same
    chain as ``len(events)`` calls of record_event, without a flush and a round trip each.
    """
    if not events:
        return 0
    organisation_id = require_organisation(session)
    head = _lock_head(session)
    rows: list[dict[str, Any]] = []
    seq, prev_hash = head.seq, head.hash
    for spec in events:
        seq += 1
        fields = _event_fields(
            organisation_id,
            seq,
            ctx,
            action=spec.action,
            target_type=spec.target_type,
            target_id=spec.target_id,
            details=spec.details,
            outcome=spec.outcome,
        )
        digest = event_hash(fields, prev_hash)
        rows.append({**fields, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    session.execute(insert(AuditEvent), rows)
    head.seq = seq
    head.hash = prev_hash
    session.flush()
    session.info[AUDIT_RECORDED_KEY] = session.info.get(AUDIT_RECORDED_KEY, 0) + len(rows)
    return len(rows)


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
