"""Groups of an organisation's accounts, and their memberships."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamped, Versioned, new_id
from ..db.tenancy import TenantScoped


class Group(TenantScoped, Versioned, Timestamped, Base):
    """A named set of accounts; the display name is unique in the organisation (casefolded)."""

    __tablename__ = "groups"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name_key"),
        UniqueConstraint("organisation_id", "external_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(256))
    # The casefolded display name that uniqueness and filters compare (accounts/rules.key).
    name_key: Mapped[str] = mapped_column(String(256))
    # The id the provisioning system knows the group by (SCIM externalId: case-exact).
    external_id: Mapped[str | None] = mapped_column(String(255))


class GroupMember(TenantScoped, Base):
    """An account's membership of a group; it goes with the group or the purged account."""

    __tablename__ = "group_members"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organisation_id", "group_id"],
            ["groups.organisation_id", "groups.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["organisation_id", "account_id"],
            ["accounts.organisation_id", "accounts.id"],
            ondelete="CASCADE",
        ),
        # The groups of an account (filters on members, the purge's cascade).
        Index("ix_group_members_org_account", "organisation_id", "account_id"),
    )

    group_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
