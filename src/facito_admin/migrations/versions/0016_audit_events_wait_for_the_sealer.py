"""audit events wait for the sealer: recorded without the chain head's lock, linked after commit

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 00:47:13.460649
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_pending_events",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=32), nullable=False),
        sa.Column("actor_tid", sa.String(length=36), nullable=False),
        sa.Column("actor_oid", sa.String(length=36), nullable=False),
        sa.Column("actor_display", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target_type", sa.String(length=50), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_audit_pending_events_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_audit_pending_events")),
    )
    with op.batch_alter_table("audit_pending_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_pending_events_org_order",
            ["organisation_id", "recorded_at", "position"],
            unique=False,
        )
    enable_tenant_rls("audit_pending_events")


def downgrade() -> None:
    # Drops the events that still wait: let the audit-sealing job (every minute) run first.
    disable_tenant_rls("audit_pending_events")
    with op.batch_alter_table("audit_pending_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_pending_events_org_order")

    op.drop_table("audit_pending_events")
