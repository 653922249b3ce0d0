"""Verifying an organisation's chain: from its genesis, or from the checkpoint of pruned events.

After pruning, the chain resumes at checkpoint.seq + 1 and its first event must link to the
checkpoint's hash (audit/chain.py: verify_chain's ``start``). The checkpoint itself is checked
against the latest `org:audit-log:prune` event, which the chain protects: rewriting the
checkpoint to hide one more deleted event would mean rewriting that event and every later one
too. Signed checkpoints (a later issue) will anchor the head outside the database as well.
Events recorded but not yet sealed (sealing.py) are not part of the chain yet: the report
says how many wait and since when.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actions import AuditAction
from .chain import (
    HASHED_FIELDS,
    BreakReason,
    BrokenLink,
    ChainHead,
    ChainReport,
    genesis_hash,
    verify_chain,
)
from .models import AuditChainHead, AuditEvent
from .pruning import PruneCheckpoint, read_checkpoint
from .sealing import Waiting, waiting_events
from .service import iter_events, require_audit_chain

# A prune that commits while we read (PostgreSQL reads each statement afresh) moves the
# checkpoint under us and looks like deleted events: verify again from the new checkpoint.
_ATTEMPTS = 3


@dataclass(frozen=True)
class ChainVerification:
    """The answer of /verify: the remaining chain's report and what pruning removed before it."""

    report: ChainReport
    pruned: PruneCheckpoint | None
    # The head the chain was verified up to, and what still waits for the sealer beyond it.
    head: ChainHead
    waiting: Waiting

    @property
    def valid(self) -> bool:
        return self.report.valid

    @property
    def checked(self) -> int:
        return self.report.checked

    @property
    def first_broken(self) -> BrokenLink | None:
        return self.report.first_broken


def _chain_rows(session: Session, *, after: int, through: int | None) -> Iterator[dict[str, Any]]:
    query = select(AuditEvent).where(AuditEvent.seq > after)
    if through is not None:
        query = query.where(AuditEvent.seq <= through)
    for event in iter_events(session, query):
        row = {name: getattr(event, name) for name in HASHED_FIELDS}
        yield {**row, "prev_hash": event.prev_hash, "hash": event.hash}


def _checkpoint_mismatch(
    session: Session, checkpoint: PruneCheckpoint | None, through: int
) -> BrokenLink | None:
    """Where the checkpoint disagrees with the latest prune event of the (verified) chain."""
    latest = session.execute(
        select(AuditEvent.id, AuditEvent.seq, AuditEvent.details)
        .where(AuditEvent.action == AuditAction.AuditLogPrune.value, AuditEvent.seq <= through)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if latest is None:
        if checkpoint is None:
            return None
        return BrokenLink(checkpoint.seq, None, BreakReason.checkpoint_mismatch)
    details = latest.details or {}
    agrees = checkpoint is not None and (
        details.get("through_seq"),
        details.get("through_hash"),
        details.get("pruned_total"),
    ) == (checkpoint.seq, checkpoint.hash, checkpoint.count)
    if agrees:
        return None
    return BrokenLink(latest.seq, str(latest.id), BreakReason.checkpoint_mismatch)


def _verify(
    session: Session, organisation_id: uuid.UUID, checkpoint: PruneCheckpoint | None
) -> tuple[ChainReport, ChainHead]:
    # The head first: events appended while we read lie beyond it and are not judged, so a
    # busy organisation's chain is not reported broken by its own new events.
    head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).first()
    start = checkpoint.head if checkpoint is not None else None
    after = start.seq if start is not None else 0
    if head is None:
        # No head (never started, or deleted): any event at all is then a broken chain.
        snapshot = ChainHead(seq=0, hash=genesis_hash(str(organisation_id)))
        rows = _chain_rows(session, after=after, through=None)
    else:
        snapshot = ChainHead(seq=head.seq, hash=head.hash)
        rows = _chain_rows(session, after=after, through=head.seq)
    report = verify_chain(str(organisation_id), rows, head=snapshot, start=start)
    if not report.valid:
        return report, snapshot
    mismatch = _checkpoint_mismatch(session, checkpoint, snapshot.seq)
    if mismatch is None:
        return report, snapshot
    return ChainReport(report.checked, mismatch, report.last_hash), snapshot


def verify_organisation_chain(session: Session) -> ChainVerification:
    """Recompute the organisation's chain from its prune checkpoint (or genesis) to its head."""
    organisation_id = require_audit_chain(session)
    for _ in range(_ATTEMPTS):
        checkpoint = read_checkpoint(session)
        report, head = _verify(session, organisation_id, checkpoint)
        if report.valid or read_checkpoint(session) == checkpoint:
            break
    return ChainVerification(
        report=report, pruned=checkpoint, head=head, waiting=waiting_events(session)
    )
