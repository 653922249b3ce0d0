"""Requests for support access and the grants they become (one row each, a global table)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..auth.permissions import GrantAccess
from ..db.base import Base, new_id, string_enum, utcnow


class SupportAccessStatus(StrEnum):
    # Waiting for the organisation's decision (until `expires_at`).
    pending = "pending"
    # A grant in force from `starts_at` until `ends_at`.
    active = "active"
    denied = "denied"
    # Nobody answered before `expires_at`.
    expired = "expired"
    revoked = "revoked"
    # The requester withdrew the request or gave the grant up early.
    released = "released"
    # The grant reached its end.
    ended = "ended"


class SupportAccessRequest(Base):
    """A staff member's request for access to one organisation, and the grant it became.

    Global (db/tenancy.GLOBAL_MODELS): the requester sees their own requests outside any
    organisation, and the edge reads the grant in force before the request's session serves the
    organisation. Every read in an organisation's name filters on ``organisation_id``.
    """

    __tablename__ = "support_access_requests"
    __table_args__ = (
        Index("ix_support_access_org", "organisation_id", "id"),
        Index(
            "ix_support_access_requester",
            "requester_tenant_id",
            "requester_object_id",
            "organisation_id",
            "status",
        ),
        Index("ix_support_access_status_times", "status", "expires_at", "ends_at"),
        {"info": {"resource": "support access request"}},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    requester_tenant_id: Mapped[str] = mapped_column(String(36))
    requester_object_id: Mapped[str] = mapped_column(String(36))
    requester_display: Mapped[str] = mapped_column(String(200))
    justification: Mapped[str] = mapped_column(String(2000))
    ticket_reference: Mapped[str] = mapped_column(String(100))
    access: Mapped[GrantAccess] = mapped_column(string_enum(GrantAccess, "grant_access"))
    resource_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    duration_hours: Mapped[int]
    status: Mapped[SupportAccessStatus] = mapped_column(
        string_enum(SupportAccessStatus, "support_access_status")
    )
    # Whether the organisation's effective policy asked for its approval, when requested.
    approval_required: Mapped[bool]
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A pending request expires unanswered at this instant.
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[str | None] = mapped_column(String(200))
    decided_by_display: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    # When it stopped being pending or active other than by a decision (revoked, released,
    # expired, ended), by whom and why.
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[str | None] = mapped_column(String(200))
    closed_by_display: Mapped[str | None] = mapped_column(String(200))
    close_reason: Mapped[str | None] = mapped_column(String(1000))
