"""Pruning the audit log past its retention: the oldest events go, a checkpoint of them stays.

Only a prefix of the chain is ever pruned, so what remains is still one unbroken chain that
starts right after the checkpoint (the last pruned event's seq and hash). Each batch deletes
its events, moves the checkpoint and records an `org:audit-log:prune` event naming the same
seq and hash, all in the caller's transaction, and seals it there (so the checkpoint and its
event appear together): verification checks the checkpoint against that event, which is
always newer than what it describes and so never pruned with it.
The job that runs the batches per organisation is audit_retention/tasks.py.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from ..auth.context import RequestContext
from ..db.base import utcnow
from ..db.tenancy import require_organisation
from ..errors import InvalidState
from .actions import AuditAction
from .chain import HASHED_FIELDS, ChainHead, verify_chain
from .models import AuditChainHead, AuditEvent, AuditPruneCheckpoint
from .sealing import SEAL_BATCH, seal_pending
from .service import record_event

PRUNE_BATCH = 1000
_CHAIN_COLUMNS = tuple(getattr(AuditEvent, n) for n in (*HASHED_FIELDS, "prev_hash", "hash"))
_CHECKPOINT_FOR_UPDATE = (
    select(AuditPruneCheckpoint)
    .with_for_update()
    # A job's session lives across its steps: never trust an identity-map copy here.
    .execution_options(populate_existing=True)
)


class AuditChainBroken(InvalidState):
    """The events due for pruning do not verify: deleting them would erase the evidence."""

    code, title = "audit-chain-broken", "The audit chain is broken"


@dataclass(frozen=True)
class PruneCheckpoint:
    """What pruning removed so far: through which event, how many in all, and when last."""

    seq: int
    hash: str
    count: int
    at: datetime

    @property
    def head(self) -> ChainHead:
        """The link the remaining chain starts from."""
        return ChainHead(seq=self.seq, hash=self.hash)


def read_checkpoint(session: Session) -> PruneCheckpoint | None:
    """The organisation's prune checkpoint as stored now, or None when nothing was pruned."""
    # Plain columns, not the ORM row: a re-read must see a concurrent prune's commit.
    row = session.execute(
        select(
            AuditPruneCheckpoint.seq,
            AuditPruneCheckpoint.hash,
            AuditPruneCheckpoint.pruned_count,
            AuditPruneCheckpoint.pruned_at,
        )
    ).first()
    if row is None:
        return None
    return PruneCheckpoint(seq=row.seq, hash=row.hash, count=row.pruned_count, at=row.pruned_at)


def has_events_before(session: Session, before: datetime) -> bool:
    """Whether the organisation has an event older than ``before`` (one index probe)."""
    found = session.scalar(select(AuditEvent.seq).where(AuditEvent.occurred_at < before).limit(1))
    return found is not None


def prunable_count(session: Session, before: datetime) -> int:
    """How many of the organisation's events occurred before ``before`` (job progress)."""
    return session.scalar(select(func.count()).where(AuditEvent.occurred_at < before)) or 0


def organisations_with_events_before(session: Session, before: datetime) -> list[uuid.UUID]:
    """Across organisations (a cross-organisation session): those with an event before then."""
    older = select(AuditEvent.seq).where(
        AuditEvent.organisation_id == AuditChainHead.organisation_id,
        AuditEvent.occurred_at < before,
    )
    # One index probe per organisation (organisation_id, occurred_at), not a scan of the log.
    query = select(AuditChainHead.organisation_id).where(exists(older))
    return list(session.scalars(query.order_by(AuditChainHead.organisation_id)))


def prune_events(
    session: Session, ctx: RequestContext, *, before: datetime, limit: int = PRUNE_BATCH
) -> int:
    """Delete up to ``limit`` of the oldest events that occurred before ``before``; how many.

    Records the prune event in the same transaction. Raises AuditChainBroken, deleting
    nothing, when the events due do not verify from the checkpoint.
    """
    organisation_id = require_organisation(session)
    checkpoint = session.execute(_CHECKPOINT_FOR_UPDATE).scalar_one_or_none()
    start = ChainHead(checkpoint.seq, checkpoint.hash) if checkpoint is not None else None
    after = start.seq if start is not None else 0
    rows: list[dict[str, Any]] = [
        dict(row._mapping)
        for row in session.execute(
            select(*_CHAIN_COLUMNS)
            .where(AuditEvent.seq > after)
            .order_by(AuditEvent.seq)
            .limit(limit)
        )
    ]
    # A prefix only: the rest stays one chain, and an event stamped earlier than one before
    # it (clocks of two servers) waits for its predecessors rather than leaving a hole.
    due = list(itertools.takewhile(lambda row: row["occurred_at"] < before, rows))
    if not due:
        return 0
    report = verify_chain(str(organisation_id), due, start=start)
    if report.first_broken is not None:
        broken = report.first_broken
        raise AuditChainBroken(
            f"the audit chain is broken at seq {broken.seq} ({broken.reason.value}); "
            "nothing was pruned",
            extra={"seq": broken.seq, "reason": broken.reason.value},
        )
    last = due[-1]
    session.execute(
        delete(AuditEvent)
        .where(AuditEvent.seq > after, AuditEvent.seq <= last["seq"])
        .execution_options(synchronize_session=False)
    )
    now = utcnow()
    if checkpoint is None:
        checkpoint = AuditPruneCheckpoint(organisation_id=organisation_id, pruned_count=0)
        session.add(checkpoint)
    checkpoint.seq = last["seq"]
    checkpoint.hash = last["hash"]
    checkpoint.pruned_count += len(due)
    checkpoint.pruned_at = now
    session.flush()
    record_event(
        session,
        ctx,
        action=AuditAction.AuditLogPrune,
        target_type="audit-log",
        target_id=organisation_id,
        details={
            "pruned": len(due),
            "through_seq": checkpoint.seq,
            "through_hash": checkpoint.hash,
            "pruned_total": checkpoint.pruned_count,
            "before": before,
        },
    )
    # Sealed before this commits: verification compares the checkpoint with the newest sealed
    # prune event, so the two must appear together.
    while seal_pending(session) == SEAL_BATCH:
        pass
    return len(due)
