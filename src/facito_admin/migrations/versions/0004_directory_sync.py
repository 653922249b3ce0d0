"""directory sync: per-federation sync state, and the directory marks on accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_sync_states",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("federation_id", sa.Uuid(), nullable=False),
        sa.Column("schedule_enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("next_sync_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delta_link", sa.Text(), nullable=True),
        sa.Column("delta_link_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_full_sync_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_delta_sync_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_job_id", sa.Uuid(), nullable=True),
        sa.Column("last_result", sa.JSON(), nullable=True),
        sa.Column("created_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["federation_id"],
            ["federations.id"],
            name=op.f("fk_directory_sync_states_federation_id_federations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_directory_sync_states_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "federation_id", name=op.f("pk_directory_sync_states")
        ),
    )
    enable_tenant_rls("directory_sync_states")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("directory_federation_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("directory_seen_run", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("directory_seen_run")
        batch_op.drop_column("directory_federation_id")
    disable_tenant_rls("directory_sync_states")
    op.drop_table("directory_sync_states")
