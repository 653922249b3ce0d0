"""Notices to an organisation: things Facito tells it, which its administrators acknowledge."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, new_id, string_enum, utcnow
from ..db.tenancy import TenantScoped


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
