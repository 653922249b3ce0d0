"""Verifying an organisation's chain: from its genesis, or from the checkpoint of pruned events.

After pruning, the chain resumes at checkpoint.seq + 1 and its first event must link to the
checkpoint's hash (audit/chain.py: verify_chain's ``start``). The checkpoint itself is checked
against the latest `org:audit-log:prune` event, which the chain protects: rewriting the
checkpoint to hide one more deleted event would mean rewriting that event and every later one
too. A signed checkpoint the customer kept (checkpoints.py) anchors the head outside the
database: given one, /verify also proves that today's chain extends it (:func:`check_checkpoint`).
Events recorded but not yet sealed (sealing.py) are not part of the chain yet: the report
says how many wait and since when.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..runtime import runtime_of
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
from .checkpoints import CheckpointClaims, read_checkpoint_token
from .models import AuditChainHead, AuditEvent
from .pruning import PruneCheckpoint, read_checkpoint
from .sealing import Waiting, waiting_events
from .service import iter_events, require_audit_chain

# A prune that commits while we read (PostgreSQL reads each statement afresh) moves the
# checkpoint under us and looks like deleted events: verify again from the new checkpoint.
_ATTEMPTS = 3


class CheckpointReason(StrEnum):
    """What became of a checkpoint the customer kept, checked against today's chain."""

    # The event at its seq has its hash, and the chain from there to the head holds.
    extended = "extended"
    # Its event was pruned, but it was the last one pruned: the prune checkpoint has its seq
    # and hash, and the chain from there to the head holds.
    extended_from_prune = "extended-from-prune"
    # Its event was pruned, and events after it too: the chain cannot confirm it (nor deny).
    pruned = "pruned"
    # The event at its seq has another hash: history was rewritten.
    hash_mismatch = "hash-mismatch"
    # No event at its seq, and pruning does not explain why.
    missing_event = "missing-event"
    # Its seq is past today's head: the chain was cut back.
    beyond_head = "beyond-head"
    # The event still has its hash, but the chain from there to the head does not hold.
    broken_after = "broken-after"


@dataclass(frozen=True)
class CheckpointCheck:
    """A checkpoint and whether today's chain extends it (None: cannot tell, pruned)."""

    claims: CheckpointClaims
    matches: bool | None
    reason: CheckpointReason
    first_broken: BrokenLink | None = None


@dataclass(frozen=True)
class ChainVerification:
    """The answer of /verify: the remaining chain's report and what pruning removed before it."""

    report: ChainReport
    pruned: PruneCheckpoint | None
    # The head the chain was verified up to, and what still waits for the sealer beyond it.
    head: ChainHead
    waiting: Waiting
    checkpoint: CheckpointCheck | None = None

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


def _check(
    session: Session, organisation_id: uuid.UUID, claims: CheckpointClaims
) -> CheckpointCheck:
    head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).first()
    if head is None or claims.seq > head.seq:
        return CheckpointCheck(claims, False, CheckpointReason.beyond_head)
    pruned = read_checkpoint(session)
    if pruned is not None and claims.seq < pruned.seq:
        return CheckpointCheck(claims, None, CheckpointReason.pruned)
    if pruned is not None and claims.seq == pruned.seq:
        found: str | None = pruned.hash
        extended = CheckpointReason.extended_from_prune
    else:
        found = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == claims.seq))
        extended = CheckpointReason.extended
    if found is None:
        return CheckpointCheck(claims, False, CheckpointReason.missing_event)
    if found != claims.hash:
        return CheckpointCheck(claims, False, CheckpointReason.hash_mismatch)
    # The customer's link, not the database's, is where the rest must start.
    start = ChainHead(seq=claims.seq, hash=claims.hash)
    report = verify_chain(
        str(organisation_id),
        _chain_rows(session, after=claims.seq, through=head.seq),
        head=ChainHead(seq=head.seq, hash=head.hash),
        start=start,
    )
    if not report.valid:
        return CheckpointCheck(claims, False, CheckpointReason.broken_after, report.first_broken)
    return CheckpointCheck(claims, True, extended)


def check_checkpoint(
    session: Session, organisation_id: uuid.UUID, claims: CheckpointClaims
) -> CheckpointCheck:
    """Whether today's chain extends the checkpoint: same hash at its seq, a sound chain after."""
    for _ in range(_ATTEMPTS):
        before = read_checkpoint(session)
        check = _check(session, organisation_id, claims)
        # A prune committing meanwhile can make the event vanish: judge again after it.
        if check.matches or read_checkpoint(session) == before:
            break
    return check


def verify_organisation_chain(
    session: Session, *, checkpoint: str | None = None
) -> ChainVerification:
    """Recompute the organisation's chain from its prune checkpoint (or genesis) to its head;
    with a checkpoint the customer kept (compact JWS), also whether the chain extends it."""
    organisation_id = require_audit_chain(session)
    claims = None
    if checkpoint is not None:
        # Refused before anything of the chain is read (another organisation's included).
        keys = runtime_of(session).audit_keys
        claims = read_checkpoint_token(keys, checkpoint, organisation_id=organisation_id)
    for _ in range(_ATTEMPTS):
        pruned = read_checkpoint(session)
        report, head = _verify(session, organisation_id, pruned)
        if report.valid or read_checkpoint(session) == pruned:
            break
    check = None if claims is None else check_checkpoint(session, organisation_id, claims)
    return ChainVerification(
        report=report,
        pruned=pruned,
        head=head,
        waiting=waiting_events(session),
        checkpoint=check,
    )
