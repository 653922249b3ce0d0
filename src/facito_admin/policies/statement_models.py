"""Privacy statement versions (global, written by Facito's DPO) and their change-log entries."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base, Timestamped, Versioned, new_id, string_enum


class StatementStatus(StrEnum):
    draft = "draft"
    published = "published"


class PrivacyStatementVersion(Versioned, Timestamped, Base):
    """One version of Facito's privacy statement: its policy values, change log and texts.

    A draft may change; once published it is immutable (policies/statement_drafts.py), because
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
    # When every organisation had a notice of this publication queued (policies/notice_tasks.py);
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
