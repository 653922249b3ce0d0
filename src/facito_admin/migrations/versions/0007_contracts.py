"""contracts: per-organisation contracts with products, Facito's roles and policy overrides

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 22:42:10.334545
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column(
            "effective_from", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("effective_to", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("terminated_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("termination_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to > effective_from",
            name=op.f("ck_contracts_effective_to_after_from"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_contracts_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_contracts")),
        sa.UniqueConstraint(
            "organisation_id", "reference", name=op.f("uq_contracts_organisation_id_reference")
        ),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contracts_org_effective_from",
            ["organisation_id", "effective_from", "id"],
            unique=False,
        )
    enable_tenant_rls("contracts")


def downgrade() -> None:
    disable_tenant_rls("contracts")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_contracts_org_effective_from")
    op.drop_table("contracts")
