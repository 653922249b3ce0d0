"""Legal holds and deletion certificates."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, new_id, string_enum, utcnow
from ..db.tenancy import TenantScoped


class LegalHoldScope(StrEnum):
    organisation = "organisation"
    account = "account"
    account_category = "account_category"


class LegalHold(TenantScoped, Base):
    """Data that must be kept whatever the retention says (GDPR art. 17(3)(b),(e)).

    While unreleased, nothing it covers is purged or erased: the whole organisation, one
    account, or one account's data of one category.

    ``account_id`` has no foreign key to accounts, on purpose: an active hold keeps its account
    from the purge (retention/account_purge.py), but a released one must not, and its history
    (who held what, why, until when) is worth keeping after the account is gone. The service
    checks that the account exists when the hold is placed; migration 0009 matches.
    """

    __tablename__ = "legal_holds"
    __table_args__ = (
        Index("ix_legal_holds_org_account", "organisation_id", "account_id"),
        Index("ix_legal_holds_org_released", "organisation_id", "released_at", "id"),
        CheckConstraint(
            "(scope = 'organisation' AND account_id IS NULL AND category IS NULL)"
            " OR (scope = 'account' AND account_id IS NOT NULL AND category IS NULL)"
            " OR (scope = 'account_category' AND account_id IS NOT NULL AND category IS NOT NULL)",
            name="scope_matches_target",
        ),
        {"info": {"resource": "legal hold"}},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    scope: Mapped[LegalHoldScope] = mapped_column(string_enum(LegalHoldScope, "legal_hold_scope"))
    account_id: Mapped[uuid.UUID | None]
    category: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(1000))
    # The matter, case or request number the hold belongs to.
    reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[str] = mapped_column(String(200))
    created_by_display: Mapped[str] = mapped_column(String(200))
    released_at: Mapped[datetime | None]
    released_by_id: Mapped[str | None] = mapped_column(String(200))
    released_by_display: Mapped[str | None] = mapped_column(String(200))
    release_reason: Mapped[str | None] = mapped_column(String(1000))


class DeletionKind(StrEnum):
    retention = "retention"
    account_purge = "account_purge"
    erasure = "erasure"
    offboarding = "offboarding"


class DeletionCertificate(TenantScoped, Base):
    """What one purge removed for good: how many of what, when, and on which policy's ground."""

    __tablename__ = "deletion_certificates"
    __table_args__ = (
        Index("ix_deletion_certificates_org_kind", "organisation_id", "kind", "id"),
        {"info": {"resource": "deletion certificate"}},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[DeletionKind] = mapped_column(string_enum(DeletionKind, "deletion_kind"))
    # The job that purged (None for a purge inside a request).
    job_id: Mapped[uuid.UUID | None]
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The documents the purge acted under: the statement version and the contract in force.
    statement_version_id: Mapped[uuid.UUID | None]
    statement_version_label: Mapped[str | None] = mapped_column(String(64))
    contract_id: Mapped[uuid.UUID | None]
    contract_reference: Mapped[str | None] = mapped_column(String(200))
    # {"data_records": {category: n}, "accounts": n, …} and their sum.
    removed: Mapped[dict[str, Any]] = mapped_column(JSON)
    removed_total: Mapped[int]
    # What was due but kept by legal holds: counts per category and the hold ids.
    kept_by_holds: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The retention values applied, per category, with their provenance.
    basis: Mapped[dict[str, Any]] = mapped_column(JSON)
