"""Contracts: what an organisation agreed with Facito, and from when to when it governs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamped, Versioned, new_id, utcnow
from ..db.tenancy import TenantScoped


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
