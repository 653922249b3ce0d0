"""The policy tables: privacy statement versions (global) and their change log, the contracts
of each organisation, and the notices Facito gives an organisation."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base, Timestamped, Versioned, new_id, string_enum, utcnow
from ..db.tenancy import TenantScoped

# --- privacy statement versions (global, written by Facito's DPO) and their change log -----


class StatementStatus(StrEnum):
    draft = "draft"
    published = "published"


class PrivacyStatementVersion(Versioned, Timestamped, Base):
    """One version of Facito's privacy statement: its policy values, change log and texts.

    A draft may change; once published it is immutable (policies/statements/drafts.py), because
    the effective policy of every organisation is resolved from it "as of" any instant.
    """

    __tablename__ = "privacy_statement_versions"
    __table_args__ = (
        # statement_in_force: the published version with the latest effective_from <= at.
        Index("ix_privacy_statement_versions_status_effective", "status", "effective_from"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    version_label: Mapped[str] = mapped_column(String(40), unique=True)
    # The "last updated" date printed on the statement.
    last_updated: Mapped[date]
    status: Mapped[StatementStatus] = mapped_column(
        string_enum(StatementStatus, "statement_status"), default=StatementStatus.draft
    )
    published_at: Mapped[datetime | None]
    effective_from: Mapped[datetime]
    # True when any change-log entry is material; kept in step by the service.
    material: Mapped[bool] = mapped_column(default=False)
    # Every key of policies/parameters.PARAMETERS, validated with require_all=True.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The statement's text per language tag ({"nl": "…", "en": "…"}); may be empty.
    bodies: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # When every organisation had a notice of this publication queued (policies/notices/tasks.py);
    # NULL for a published version means the fan-out still has work to do.
    notices_sent_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200), default="")
    published_by: Mapped[str | None] = mapped_column(String(200))

    changes: Mapped[list[PrivacyStatementChange]] = relationship(
        order_by="PrivacyStatementChange.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class PrivacyStatementChange(Base):
    """One entry of a version's change log: what changed, why, and whether it is material."""

    __tablename__ = "statement_changes"
    __table_args__ = (UniqueConstraint("statement_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    statement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("privacy_statement_versions.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    summary: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(1000))
    material: Mapped[bool] = mapped_column(default=False)


# --- contracts: what an organisation agreed with Facito, and when it governs -------------


class FacitoRole(StrEnum):
    """Facito's role for a product's data (GDPR art. 4(7), 4(8)); the statement's default is
    controller, an organisation-managed product usually makes Facito its processor."""

    processor = "processor"
    controller = "controller"


class Contract(TenantScoped, Versioned, Timestamped, Base):
    """A signed contract; in force on ``[effective_from, effective_to)``, never overlapping
    another contract of the organisation (the service checks it under a lock)."""

    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("organisation_id", "reference"),
        # The list and the lookup of the contract in force (effective.py, per account create).
        Index("ix_contracts_org_effective_from", "organisation_id", "effective_from", "id"),
        CheckConstraint(
            "effective_to IS NULL OR effective_to > effective_from", name="effective_to_after_from"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(100))
    signed_on: Mapped[date]
    effective_from: Mapped[datetime]
    effective_to: Mapped[datetime | None]
    # Product code → FacitoRole value; codes are checked against the catalogue on every write.
    products: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Policy parameter → value, checked by policies/parameters.validate_policy_values.
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON)
    terminated_at: Mapped[datetime | None]
    termination_reason: Mapped[str | None] = mapped_column(String(500))

    def in_force(self, at: datetime) -> bool:
        """Whether the contract governs the instant ``at``."""
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)

    @property
    def covered_products(self) -> list[dict[str, str]]:
        """The products as the API shows them: ``[{code, role}]`` by code."""
        return [{"code": code, "role": role} for code, role in sorted(self.products.items())]

    @property
    def status(self) -> str:
        """scheduled (not yet in force), in_force or ended, at this instant."""
        now = utcnow()
        if now < self.effective_from:
            return "scheduled"
        return "in_force" if self.in_force(now) else "ended"


# --- notices: things Facito tells an organisation, which its administrators acknowledge --


class NoticeKind(StrEnum):
    # A new privacy statement version was published (material or not).
    statement_published = "statement_published"


class OrganisationNotice(TenantScoped, Base):
    """One notice to one organisation; created once per organisation and subject."""

    __tablename__ = "organisation_notices"
    __table_args__ = (
        # The fan-out may run twice (a retried job, two consumers): one notice each.
        UniqueConstraint("organisation_id", "kind", "statement_id"),
        Index("ix_organisation_notices_org_acknowledged", "organisation_id", "acknowledged_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[NoticeKind] = mapped_column(string_enum(NoticeKind, "notice_kind"))
    statement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("privacy_statement_versions.id", ondelete="RESTRICT")
    )
    material: Mapped[bool] = mapped_column(default=False)
    effective_from: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_by_oid: Mapped[str | None] = mapped_column(String(36))
    # GDPR art. 28(2): a version that adds subprocessors or regions to those of the version
    # before it opens an objection window until it takes effect (policies/notices/objections.py).
    # {"subprocessors": [...], "regions": [...]}; NULL when the version adds neither.
    additions: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    objection_until: Mapped[datetime | None]
    # The organisation's one objection to those additions, if it made one.
    objected_at: Mapped[datetime | None]
    objected_by: Mapped[str | None] = mapped_column(String(200))
    objected_by_oid: Mapped[str | None] = mapped_column(String(36))
    objection_reason: Mapped[str | None] = mapped_column(String(2000))

    @property
    def added_subprocessors(self) -> list[str]:
        """Subprocessors the version adds to those of the version before it."""
        return list((self.additions or {}).get("subprocessors", []))

    @property
    def added_regions(self) -> list[str]:
        """Regions the version adds to those of the version before it."""
        return list((self.additions or {}).get("regions", []))
