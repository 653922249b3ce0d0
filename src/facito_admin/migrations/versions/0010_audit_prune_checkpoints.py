"""audit retention: the checkpoint of each organisation's pruned audit events

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_prune_checkpoints",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("pruned_count", sa.BigInteger(), nullable=False),
        sa.Column("pruned_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_audit_prune_checkpoints_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_audit_prune_checkpoints")),
    )
    enable_tenant_rls("audit_prune_checkpoints")


def downgrade() -> None:
    disable_tenant_rls("audit_prune_checkpoints")
    op.drop_table("audit_prune_checkpoints")
