"""Sealing: linking recorded events into their organisation's chain, in the order they committed.

A change records its events in its own transaction, into ``audit_pending_events``, and takes no
lock (service.record_events): no change commits without its events, and writers of one
organisation no longer queue behind each other's whole transactions. Right after such a
commit, a sealer takes the chain head's lock in a short transaction of its own, reads a batch
of the organisation's waiting events, gives each the next ``seq`` and its hash, moves them into
``audit_events`` and moves the head. A sealer sees only committed events, so the chain stays
gapless whatever commits when; one killed mid-batch rolls back, and the next sealer (after the
next commit, or the every-minute ``audit-sealing`` job) seals the same events once. On SQLite,
whose writer holds the database's write lock until it commits anyway, the sealer runs just
before that commit instead, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Histogram
from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    any_,
    bindparam,
    delete,
    event,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningDelete

from ..db.base import utcnow
from ..db.session import SessionSource, unit_of_work
from ..db.tenancy import (
    ORGANISATION_KEY,
    REUSED_STATEMENT,
    require_organisation,
    scoped_rows,
    scoped_write,
)
from .chain import ChainHead, event_hash
from .models import AuditChainHead, AuditEvent, AuditPendingEvent

log = structlog.get_logger(__name__)

# Set by recording (service.record_events): seal the session's organisation after its commit.
SEAL_AFTER_COMMIT_KEY = "audit_seal_after_commit"


class AuditChainError(RuntimeError):
    """A programming error around the chain: no head, or writing in a read-only session."""


SEAL_BATCH = 1000
# From the transaction that recorded an event to the one that sealed it, recording included.
SEALING_DELAY = Histogram(
    "facito_audit_sealing_delay_seconds",
    "Time from recording an audit event to linking it into its organisation's chain",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300),
    registry=None,
)
# What the app adds to its /metrics registry (app.py).
METRICS = (SEALING_DELAY,)

_CONTENT = (
    AuditPendingEvent.id,
    AuditPendingEvent.occurred_at,
    AuditPendingEvent.actor_kind,
    AuditPendingEvent.actor_tid,
    AuditPendingEvent.actor_oid,
    AuditPendingEvent.actor_display,
    AuditPendingEvent.action,
    AuditPendingEvent.target_type,
    AuditPendingEvent.target_id,
    AuditPendingEvent.outcome,
    AuditPendingEvent.request_id,
    AuditPendingEvent.details,
)
_ORDER = (AuditPendingEvent.recorded_at, AuditPendingEvent.position, AuditPendingEvent.id)


def _take_waiting(*, postgresql: bool) -> ReturningDelete[Any]:
    """Delete the next ``batch`` waiting events and return them: one statement, not two."""
    batch = (
        select(AuditPendingEvent.id)
        .order_by(*_ORDER)
        .limit(bindparam("batch", type_=Integer))
        .scalar_subquery()
    )
    # PostgreSQL: `id = ANY(ARRAY(batch))` probes the primary key once per id. With `IN
    # (batch)` the planner, trusting statistics taken while the table was empty (it mostly
    # is), joined every waiting event against the whole batch: 500,000 comparisons and
    # 125-150 ms for a batch of 1,000, measured in a directory sync (issue 13), against 6 ms.
    taken = (
        AuditPendingEvent.id == any_(func.array(batch))
        if postgresql
        else AuditPendingEvent.id.in_(batch)
    )
    return (
        delete(AuditPendingEvent)
        .where(taken)
        .returning(*_CONTENT, AuditPendingEvent.recorded_at, AuditPendingEvent.position)
        .execution_options(synchronize_session=False, **{REUSED_STATEMENT: True})
    )


# Every seal runs these: built once, their scoped forms kept by the tenancy guard, and run on
# the session's connection (db/tenancy.py: scoped_rows, scoped_write), not through its ORM
# execution, which cost a third of a SCIM create (bench/scim.py).
_TAKE_WAITING = {
    "postgresql": _take_waiting(postgresql=True),
    "sqlite": _take_waiting(postgresql=False),
}
_MOVE_HEAD = (
    update(AuditChainHead)
    .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
    .execution_options(synchronize_session=False, **{REUSED_STATEMENT: True})
)
_APPEND = insert(AuditEvent)


# Plain columns, not the ORM row: a seal reads and moves the head without the identity map
# (a session reused across transactions never hands back a stale copy) or a unit-of-work flush.
_HEAD = select(AuditChainHead.seq, AuditChainHead.hash)
_HEAD_FOR_UPDATE = _HEAD.with_for_update().execution_options(**{REUSED_STATEMENT: True})
# PostgreSQL, for a transaction that does nothing but seal: the same, and its commit does not
# wait for its WAL flush (set_config(..., true) is SET LOCAL; in this statement, not one of
# its own, which cost a round trip per seal).
#
# Safe there, and it halves the disk flushes of a write: a seal only moves committed events
# from one table to another. If PostgreSQL crashes before the flush, the database comes back
# as of an earlier instant, the seal undone as a whole and its events waiting again; any
# transaction that committed normally after the seal (a change, a signed checkpoint) flushed
# the seal's WAL with its own, so nothing lost was ever relied upon, and the same events
# sealed again in the same order give the same hashes.
_HEAD_FOR_UPDATE_COMMITTING_LAZILY: Select[*tuple[Any, ...]] = (
    select(
        AuditChainHead.seq,
        AuditChainHead.hash,
        literal_column("set_config('synchronous_commit', 'off', true)").label("lazy_commit"),
    )
    .with_for_update()
    .execution_options(**{REUSED_STATEMENT: True})
)


def lock_head(session: Session, *, lazy_commit: bool = False) -> ChainHead:
    """The organisation's chain head, locked until the transaction ends; ``lazy_commit``: for
    a transaction that only seals, whose commit need not wait for the disk (PostgreSQL)."""
    # PostgreSQL: FOR UPDATE on the organisation's one head row serialises its sealers (read
    # committed re-reads the row once the lock is granted); other organisations do not wait.
    # SQLite renders no FOR UPDATE: the write session's BEGIN IMMEDIATE already holds the
    # database write lock, so a deferred (read) session must never get here, it would fail
    # with "database is locked" instead of waiting.
    if session.get_bind().dialect.name == "sqlite":
        options = session.connection().get_execution_options()
        if options.get("sqlite_begin") != "immediate":
            raise AuditChainError("the chain is sealed in write sessions only")
    postgresql = session.get_bind().dialect.name == "postgresql"
    statement = (
        _HEAD_FOR_UPDATE_COMMITTING_LAZILY if lazy_commit and postgresql else _HEAD_FOR_UPDATE
    )
    rows = scoped_rows(session, statement, {})
    head = rows[0] if rows else None
    if head is None:
        raise AuditChainError("the organisation has no audit chain (start_chain)")
    return ChainHead(seq=head.seq, hash=head.hash)


# Called mid-batch (events written, head not yet moved); a test kills the process there.
BatchHook = Callable[[int], None]


def _link(
    session: Session,
    organisation_id: uuid.UUID,
    head: ChainHead,
    rows: Sequence[Mapping[str, Any]],
    mid_batch: BatchHook | None = None,
) -> None:
    """Give ``rows`` (event content, in order) the next seqs and hashes after ``head``."""
    seq, prev_hash = head.seq, head.hash
    sealed = []
    for row in rows:
        seq += 1
        fields = {**row, "organisation_id": organisation_id, "seq": seq}
        digest = event_hash(fields, prev_hash)
        sealed.append({**fields, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    scoped_write(session, _APPEND, sealed)
    if mid_batch is not None:
        mid_batch(len(sealed))
    scoped_write(session, _MOVE_HEAD, {"head_seq": seq, "head_hash": prev_hash})


def seal_pending(
    session: Session,
    *,
    limit: int = SEAL_BATCH,
    mid_batch: BatchHook | None = None,
    lazy_commit: bool = False,
) -> int:
    """Link up to ``limit`` waiting events into the chain, in the caller's transaction; how many.

    ``lazy_commit``: the transaction does nothing else (lock_head)."""
    organisation_id = require_organisation(session)
    head = lock_head(session, lazy_commit=lazy_commit)
    take = _TAKE_WAITING[session.get_bind().dialect.name]
    # RETURNING gives no order: the batch is put back in recording order here.
    waiting = sorted(
        scoped_write(session, take, {"batch": limit}).all(),
        key=lambda row: (row.recorded_at, row.position, row.id),
    )
    if not waiting:
        return 0
    content = []
    for row in waiting:
        fields = dict(row._mapping)
        del fields["recorded_at"], fields["position"]
        content.append(fields)
    _link(session, organisation_id, head, content, mid_batch)
    now = utcnow()
    for row in waiting:
        SEALING_DELAY.observe(max((now - row.recorded_at).total_seconds(), 0.0))
    return len(waiting)


def seal_with_change(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Link ``rows`` (event content, in order) into the chain in the caller's transaction,
    after whatever already waits: for a bulk writer, whose events are many (a directory
    sync's page records up to a thousand, issue 13).

    Sealing them with the change writes each event once instead of three times (into
    ``audit_pending_events``, out of it, into ``audit_events``). The chain head stays locked
    until the caller's commit: call this last, just before committing, so that the lock is
    held about as long as a sealer's own batch (seal_organisation) holds it.
    """
    organisation_id = require_organisation(session)
    while seal_pending(session) == SEAL_BATCH:
        pass
    _link(session, organisation_id, lock_head(session), rows)


def seal_organisation(
    source: SessionSource,
    organisation_id: uuid.UUID,
    *,
    batch: int = SEAL_BATCH,
) -> int:
    """Seal everything the organisation has waiting, a batch per short transaction; how many."""
    total = 0
    while True:
        with unit_of_work(source, organisation_id=organisation_id) as session:
            # A transaction of its own that only seals (not a caller's, whose change must
            # commit durably).
            sealed = seal_pending(session, limit=batch, lazy_commit=True)
        total += sealed
        if sealed < batch:
            return total


@dataclass(frozen=True)
class Waiting:
    """What still waits to be sealed: how many events, and since when."""

    count: int
    oldest_recorded_at: datetime | None


def waiting_events(session: Session) -> Waiting:
    """How many of the organisation's events wait for the sealer, and the oldest's instant."""
    count, oldest = session.execute(
        select(func.count(), func.min(AuditPendingEvent.recorded_at))
    ).one()
    return Waiting(count=int(count), oldest_recorded_at=oldest)


def organisations_waiting(session: Session) -> list[uuid.UUID]:
    """Organisations with events waiting (a cross-organisation session)."""
    return list(
        session.scalars(
            select(AuditPendingEvent.organisation_id)
            .distinct()
            .order_by(AuditPendingEvent.organisation_id)
        )
    )


class _SameBind:
    """Sessions on the engine of a committed session: the sealer's after that commit."""

    def __init__(self, bind: Engine | Connection) -> None:
        # The write engine on SQLite (BEGIN IMMEDIATE): the session recorded events.
        self._bind = bind

    def session(
        self,
        *,
        organisation_id: uuid.UUID | None = None,
        write: bool = False,
        cross_organisation_reason: str | None = None,
    ) -> Session:
        session = Session(bind=self._bind, expire_on_commit=False)
        session.info[ORGANISATION_KEY] = organisation_id
        return session


@event.listens_for(Session, "before_commit")
def seal_before_commit_on_sqlite(session: Session) -> None:
    """SQLite: seal in the committing transaction itself, which makes nobody wait.

    A SQLite writer holds the database's one write lock from BEGIN IMMEDIATE to its commit,
    so no other writer runs meanwhile: sealing before the commit saves a second transaction
    and holds no lock that was not held anyway. (PostgreSQL writers run side by side; there
    the seal waits for the commit, below.)
    """
    if not session.info.get(SEAL_AFTER_COMMIT_KEY):
        return
    if session.get_bind().dialect.name != "sqlite":
        return
    while seal_pending(session) == SEAL_BATCH:
        pass
    session.info.pop(SEAL_AFTER_COMMIT_KEY)


@event.listens_for(Session, "after_commit")
def seal_after_commit(session: Session) -> None:
    """Seal the organisation's waiting events once a session that recorded some commits.

    Another sealer of the organisation may hold the head: this one waits for that short
    transaction (not for anyone's whole request) and then seals what is left, often nothing.
    """
    if not session.info.pop(SEAL_AFTER_COMMIT_KEY, False):
        return
    organisation_id = session.info.get(ORGANISATION_KEY)
    if not isinstance(organisation_id, uuid.UUID):  # pragma: no cover - recording requires one
        return
    try:
        seal_organisation(_SameBind(session.get_bind()), organisation_id)
    except Exception:
        # The events are committed and wait: the next commit's sealer, or the audit-sealing
        # job within a minute, links them. The change itself has happened either way.
        log.exception("audit_sealing_deferred", organisation_id=str(organisation_id))
