"""The audit log: one hash chain of events per organisation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, new_id, utcnow
from ..db.tenancy import TenantScoped


class EventContent:
    """What an event says: who did what to what, when, and how it went (hashed when sealed)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(32))
    actor_tid: Mapped[str] = mapped_column(String(36))
    actor_oid: Mapped[str] = mapped_column(String(36))
    actor_display: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20), default="success")
    request_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChainedEvent(EventContent):
    """An event linked into a hash chain (audit/chain.py), an organisation's or Facito's."""

    # Position in the chain: 1, 2, 3, … without gaps.
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(TenantScoped, ChainedEvent, Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("organisation_id", "seq"),
        Index("ix_audit_events_org_occurred", "organisation_id", "occurred_at", "seq"),
        Index("ix_audit_events_org_action", "organisation_id", "action", "seq"),
        Index("ix_audit_events_org_target", "organisation_id", "target_id", "seq"),
        Index("ix_audit_events_org_actor", "organisation_id", "actor_oid", "seq"),
    )


class AuditPendingEvent(TenantScoped, EventContent, Base):
    """An event recorded with its change, waiting for the sealer to link it into the chain.

    A request writes its events here, in its own transaction, without touching the chain head;
    the sealer (audit/sealing.py) moves them into ``audit_events`` in the order they committed,
    a batch at a time, under the head's lock. ``recorded_at`` is the instant the recording
    transaction wrote its first event and ``position`` counts its events, so the events of one
    transaction keep their order and stay together.
    """

    __tablename__ = "audit_pending_events"
    __table_args__ = (
        Index("ix_audit_pending_events_org_order", "organisation_id", "recorded_at", "position"),
    )

    recorded_at: Mapped[datetime]
    position: Mapped[int] = mapped_column(Integer)


class AuditChainHead(TenantScoped, Base):
    """The last link of an organisation's chain; appending locks this row, so chains never fork."""

    __tablename__ = "audit_chain_heads"

    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditPruneCheckpoint(TenantScoped, Base):
    """The last event pruned from an organisation's chain: where verification resumes.

    Pruning (audit/pruning.py) deletes a prefix of the chain and moves this row forward in
    the same transaction; the chain's remaining first event links to ``hash``. One row per
    organisation, written only by pruning; no row means nothing was ever pruned.
    """

    __tablename__ = "audit_prune_checkpoints"

    # The last pruned event's position and hash.
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    # Events pruned in total, over every run, and when the last run pruned.
    pruned_count: Mapped[int] = mapped_column(BigInteger)
    pruned_at: Mapped[datetime]


class AuditCheckpoint(TenantScoped, Base):
    """A signed checkpoint of the organisation's chain head, as given to the organisation.

    The JWS (audit/checkpoints.py) is what the customer keeps: a copy here lists and
    re-delivers it, proving nothing on its own. Rows are only added, never changed.
    """

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index("ix_audit_checkpoints_org_seq", "organisation_id", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The chain head it signs: the last sealed event's position and hash.
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(200))
    # `schedule` (the daily scan) or `request` (POST …/audit-checkpoints).
    made_by: Mapped[str] = mapped_column(String(20))
    jws: Mapped[str] = mapped_column(Text)


class FacitoAuditEvent(ChainedEvent, Base):
    """An event of Facito's own chain: staff actions on nothing of one organisation.

    Publishing a privacy statement, for instance, belongs to no organisation's log. The
    chain works like an organisation's (audit/chain.py), with the organisation id "facito"
    in the hashed fields (audit/facito_log.py).
    """

    __tablename__ = "facito_audit_events"
    __table_args__ = (
        UniqueConstraint("seq"),
        Index("ix_facito_audit_events_action", "action", "seq"),
        Index("ix_facito_audit_events_target", "target_id", "seq"),
    )


class FacitoAuditChainHead(Base):
    """The last link of Facito's chain: one row (id 1), seeded by migration 0006."""

    __tablename__ = "facito_audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))
