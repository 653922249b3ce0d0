"""The product catalogue (global) and the entitlements of accounts to products (tenant)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, new_id, string_enum, utcnow
from ..db.tenancy import TenantScoped

# A product's code (the catalogue's key; entitlements and contracts name products by it).
PRODUCT_CODE = r"^[a-z0-9][a-z0-9-]{0,63}$"


class ProductKind(StrEnum):
    """The kinds of enterprise products and services the privacy statement lists."""

    development = "development"
    cloud = "cloud"
    server_database = "server_database"
    storage_hardware = "storage_hardware"
    professional_services = "professional_services"


class Product(Base):
    """A product of Facito's catalogue; the same for every organisation."""

    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProductKind] = mapped_column(string_enum(ProductKind, "product_kind"))
    description: Mapped[str] = mapped_column(String(1000))
    # Previews may collect more data than released products (statement: previews).
    preview: Mapped[bool] = mapped_column(default=False)


class EndReason(StrEnum):
    revoked = "revoked"
    account_disabled = "account_disabled"
    account_deleted = "account_deleted"


# Entitlements ended by the account's lifecycle come back when the account is active again;
# revoked ones do not.
LIFECYCLE_END_REASONS = frozenset({EndReason.account_disabled, EndReason.account_deleted})


class Entitlement(TenantScoped, Base):
    """One period in which an account may use a product; ended periods stay as history."""

    __tablename__ = "entitlements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organisation_id", "account_id"], ["accounts.organisation_id", "accounts.id"]
        ),
        Index("ix_entitlements_org_account", "organisation_id", "account_id", "id"),
        # At most one open period per account and product, even under concurrent grants.
        Index(
            "uq_entitlements_open",
            "organisation_id",
            "account_id",
            "product_code",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        CheckConstraint(
            "(ended_at IS NULL AND end_reason IS NULL) "
            "OR (ended_at IS NOT NULL AND end_reason IS NOT NULL)",
            name="ended_has_reason",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID]
    product_code: Mapped[str] = mapped_column(String(64), ForeignKey("products.code"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[EndReason | None] = mapped_column(string_enum(EndReason, "entitlement_end"))
