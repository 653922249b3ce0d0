"""Linked data records: one piece of an employee's data in one Facito product."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamped, new_id, utcnow
from ..db.tenancy import TenantScoped

# Column sizes the API's schemas repeat (user_data/schemas.py).
SOURCE_SYSTEM_LENGTH = 100
EXTERNAL_KEY_LENGTH = 200
CONTENT_REF_LENGTH = 2048


class DataRecord(TenantScoped, Timestamped, Base):
    """A record of personal data linked to an account: where it lives, what kind, what for.

    Customer systems upsert records by (source system, external key). ``content`` holds the
    data itself (JSON) or ``content_ref`` says where it is held instead; listing never returns
    either, reading the content is a separate, audited call. ``occurred_at`` is when the data
    came into being at its source: retention counts from it (retention/schedule.py).
    """

    __tablename__ = "data_records"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "source_system", "external_key", info={"field": "external_key"}
        ),
        ForeignKeyConstraint(
            ["organisation_id", "account_id"], ["accounts.organisation_id", "accounts.id"]
        ),
        # An account's records, filtered by category or product, in id (time) order.
        Index("ix_data_records_org_account", "organisation_id", "account_id", "id"),
        Index(
            "ix_data_records_org_account_category",
            "organisation_id",
            "account_id",
            "category",
            "id",
        ),
        Index(
            "ix_data_records_org_account_product", "organisation_id", "account_id", "product", "id"
        ),
        # The retention run: per category, what came into being before a cutoff.
        Index(
            "ix_data_records_org_category_occurred", "organisation_id", "category", "occurred_at"
        ),
        # Soft-deleted records only (the retention run's deleted-items clock): a full index
        # would be the narrowest with organisation_id first, and the planner took it to scan an
        # organisation whose statistics were still small.
        Index(
            "ix_data_records_org_deleted",
            "organisation_id",
            "deleted_at",
            sqlite_where=text("deleted_at IS NOT NULL"),
            postgresql_where=text("deleted_at IS NOT NULL"),
        ),
        CheckConstraint(
            "NOT (content IS NOT NULL AND content_ref IS NOT NULL)", name="content_or_reference"
        ),
        {"info": {"resource": "data record"}},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID]
    product: Mapped[str] = mapped_column(String(64), ForeignKey("products.code"))
    # A key of policies/categories.py:CATEGORIES.
    category: Mapped[str] = mapped_column(String(64))
    source_system: Mapped[str] = mapped_column(String(SOURCE_SYSTEM_LENGTH))
    external_key: Mapped[str] = mapped_column(String(EXTERNAL_KEY_LENGTH))
    # Storage location: a subprocessor and one of its regions (policies/regions.py), allowed by
    # the organisation's effective policy when the record was written.
    subprocessor: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(32))
    # None is SQL NULL (no content), never JSON `null`: the check constraint and has_content
    # read it so, and bulk inserts pass None for rows without content.
    content: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    content_ref: Mapped[str | None] = mapped_column(String(CONTENT_REF_LENGTH))
    # The record holds special or otherwise sensitive data (its category may be sensitive too).
    sensitive: Mapped[bool] = mapped_column(default=False)
    # What the data is used for (policies/categories.py:Purpose values), each checked against
    # the category when written (check_purpose): content and files never serve advertising.
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Soft-deleted: purged once the effective `retention.deleted_items_days` have passed.
    deleted_at: Mapped[datetime | None]
