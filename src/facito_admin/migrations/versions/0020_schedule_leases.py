"""jobs: the lease that lets one job consumer of the deployment run the periodic schedule

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from facito_admin.db.base import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    leases = op.create_table(
        "schedule_leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_minute", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_schedule_leases")),
    )
    op.bulk_insert(leases, [{"name": "periodic"}])


def downgrade() -> None:
    op.drop_table("schedule_leases")
