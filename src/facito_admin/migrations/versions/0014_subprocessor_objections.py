"""subprocessor objections on organisation notices (GDPR art. 28(2))

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation_notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("additions", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "objection_until", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("objected_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("objected_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("objected_by_oid", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("objection_reason", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisation_notices", schema=None) as batch_op:
        batch_op.drop_column("objection_reason")
        batch_op.drop_column("objected_by_oid")
        batch_op.drop_column("objected_by")
        batch_op.drop_column("objected_at")
        batch_op.drop_column("objection_until")
        batch_op.drop_column("additions")
