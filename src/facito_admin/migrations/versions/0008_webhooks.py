"""webhooks: endpoints of an organisation and the deliveries of events to them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def _at(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, facito_admin.db.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "disabled_reason",
            sa.Enum("manual", "gone", name="webhook_disabled_reason", native_enum=False, length=32),
            nullable=True,
        ),
        _at("disabled_at"),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        _at("secret_rotated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_webhook_endpoints_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_webhook_endpoints")),
    )
    enable_tenant_rls("webhook_endpoints")
    op.create_table(
        "webhook_deliveries",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                "abandoned",
                name="webhook_delivery_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        _at("last_attempt_at"),
        sa.Column("last_response_status", sa.Integer(), nullable=True),
        sa.Column("last_response_excerpt", sa.String(length=500), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        _at("finished_at"),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id", "endpoint_id"],
            ["webhook_endpoints.organisation_id", "webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_organisation_id_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_webhook_deliveries_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_org_endpoint",
            ["organisation_id", "endpoint_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_webhook_deliveries_pending",
            ["organisation_id", "next_attempt_at"],
            unique=False,
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        )
    enable_tenant_rls("webhook_deliveries")


def downgrade() -> None:
    disable_tenant_rls("webhook_deliveries")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_pending")
        batch_op.drop_index("ix_webhook_deliveries_org_endpoint")
    op.drop_table("webhook_deliveries")
    disable_tenant_rls("webhook_endpoints")
    op.drop_table("webhook_endpoints")
