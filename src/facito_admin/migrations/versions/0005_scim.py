"""SCIM: per-organisation SCIM tokens, groups and their memberships; profile attributes of accounts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 22:42:05.645441
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("groups", "scim_tokens", "group_members")


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("display_name", sa.String(length=256), nullable=False),
        sa.Column("name_key", sa.String(length=256), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_groups_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_groups")),
        sa.UniqueConstraint(
            "organisation_id", "external_id", name=op.f("uq_groups_organisation_id_external_id")
        ),
        sa.UniqueConstraint(
            "organisation_id", "name_key", name=op.f("uq_groups_organisation_id_name_key")
        ),
    )
    op.create_table(
        "scim_tokens",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("expires_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_scim_tokens_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_scim_tokens")),
    )
    op.create_table(
        "group_members",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id", "account_id"],
            ["accounts.organisation_id", "accounts.id"],
            name=op.f("fk_group_members_organisation_id_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "group_id"],
            ["groups.organisation_id", "groups.id"],
            name=op.f("fk_group_members_organisation_id_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_group_members_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "group_id", "account_id", name=op.f("pk_group_members")
        ),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_group_members_org_account", ["organisation_id", "account_id"], unique=False
        )

    for table in TABLES:
        enable_tenant_rls(table)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("email_primary", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("job_title", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("nick_name", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("user_type", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("preferred_language", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("locale", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cost_center", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("division", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("company", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("company")
        batch_op.drop_column("division")
        batch_op.drop_column("cost_center")
        batch_op.drop_column("timezone")
        batch_op.drop_column("locale")
        batch_op.drop_column("preferred_language")
        batch_op.drop_column("user_type")
        batch_op.drop_column("nick_name")
        batch_op.drop_column("job_title")
        batch_op.drop_column("email_primary")
        batch_op.drop_column("email_type")
    for table in TABLES:
        disable_tenant_rls(table)
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index("ix_group_members_org_account")

    op.drop_table("group_members")
    op.drop_table("scim_tokens")
    op.drop_table("groups")
