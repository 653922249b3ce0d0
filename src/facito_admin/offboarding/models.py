"""The organisation's full exports, and the certificates of offboarded organisations' deletion."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, new_id, string_enum, utcnow
from ..db.tenancy import TenantScoped


class ExportStatus(StrEnum):
    pending = "pending"
    ready = "ready"


class OrganisationExport(TenantScoped, Base):
    """One full export of the organisation's data: a ZIP written by a job, downloaded until
    it expires (FACITO_EXPORT_DAYS after it was written)."""

    __tablename__ = "organisation_exports"
    # The primary key (organisation, id) is the list's index: UUIDv7 ids sort by creation.
    __table_args__ = ({"info": {"resource": "organisation export"}},)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    status: Mapped[ExportStatus] = mapped_column(
        string_enum(ExportStatus, "organisation_export_status"), default=ExportStatus.pending
    )
    job_id: Mapped[uuid.UUID]
    requested_by_id: Mapped[str] = mapped_column(String(200))
    requested_by_display: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    # The file's name in the organisation's export folder, its size and SHA-256.
    file: Mapped[str | None] = mapped_column(String(200))
    bytes: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    # What the archive holds, per member (the manifest's counts).
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OffboardingCertificate(Base):
    """The deletion of one offboarded organisation's data after its return period.

    Global: the organisation's own tables are what was deleted. The row is written when the
    deletion starts and carries its progress (``removed`` so far, committed with each batch),
    so a killed run resumes; ``completed_at`` and the event on Facito's chain mark the end.
    A later pass (a hold that kept data was released) writes another certificate.
    """

    __tablename__ = "offboarding_certificates"
    __table_args__ = (
        Index("ix_offboarding_certificates_org", "organisation_id", "id"),
        {"info": {"resource": "offboarding certificate"}},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    organisation_slug: Mapped[str] = mapped_column(String(63))
    organisation_name: Mapped[str] = mapped_column(String(200))
    offboarded_at: Mapped[datetime | None]
    data_return_until: Mapped[datetime]
    # The return period applied: days, the document that set it (statement, contract, default).
    return_basis: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    # Rows deleted per table, and their sum.
    removed: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    removed_total: Mapped[int] = mapped_column(default=0)
    # What legal holds kept: rows per table and the holds that kept them.
    kept_by_holds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The event on Facito's own chain that certifies the deletion.
    facito_event_seq: Mapped[int | None]
