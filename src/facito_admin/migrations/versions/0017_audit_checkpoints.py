"""audit checkpoints: signed checkpoints of each organisation's chain head

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 00:48:28.836649
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=200), nullable=False),
        sa.Column("made_by", sa.String(length=20), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_audit_checkpoints_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index("ix_audit_checkpoints_org_seq", "audit_checkpoints", ["organisation_id", "seq"])
    enable_tenant_rls("audit_checkpoints")


def downgrade() -> None:
    disable_tenant_rls("audit_checkpoints")
    op.drop_index("ix_audit_checkpoints_org_seq", table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
