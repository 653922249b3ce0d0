"""jobs: background jobs, the source of truth behind the huey queue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 20:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("state IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                "cancelled",
                name="job_state",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease", sa.Uuid(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_by_oid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_jobs_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_org_kind_state", ["organisation_id", "kind", "state", "id"], unique=False
        )
        batch_op.create_index(
            "ix_jobs_active",
            ["organisation_id", "state", "heartbeat_at"],
            unique=False,
            postgresql_where=_ACTIVE,
            sqlite_where=_ACTIVE,
        )
    enable_tenant_rls("jobs")


def downgrade() -> None:
    disable_tenant_rls("jobs")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_active")
        batch_op.drop_index("ix_jobs_org_kind_state")
    op.drop_table("jobs")
