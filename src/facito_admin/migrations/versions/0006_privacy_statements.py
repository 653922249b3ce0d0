"""privacy statements: versions with change logs, organisation notices, Facito's audit chain

Seeds the statement of 8 March 2019 as the first published version, and the head of Facito's
own audit chain.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-25 22:41:33.614877
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

# The statement of 8 March 2019 as of this revision (policies/statement_seed.py names the id;
# tests/integration/policies check these values against policies/parameters.py). Later
# statements are published through the API, never by a migration.
SEED_STATEMENT_ID = uuid.UUID("0169a5c0-0000-7000-8000-000000000001")
SEED_CHANGE_ID = uuid.UUID("0169a5c0-0000-7000-8000-000000000002")
SEED_INSTANT = datetime(2019, 3, 8, tzinfo=UTC)
SEED_VALUES = {
    "dsr.response_days": 30,
    "dsr.max_extension_days": 60,
    "retention.deleted_items_days": 30,
    "retention.sensitive_max_days": 365,
    "residency.allowed_regions": [
        "azure-at",
        "azure-au",
        "azure-br",
        "azure-ca",
        "azure-cl",
        "azure-de",
        "azure-fi",
        "azure-fr",
        "azure-gb",
        "azure-hk",
        "azure-ie",
        "azure-in",
        "azure-jp",
        "azure-kr",
        "azure-lu",
        "azure-my",
        "azure-nl",
        "azure-sg",
        "azure-us",
        "azure-za",
        "transip-nl-amsterdam",
        "transip-nl-delft",
    ],
    "residency.eea_only": False,
    "subprocessors.allowed": ["azure", "transip"],
    "advertising.interest_based": True,
    "advertising.partner_sharing": True,
    "marketing.default_channels": [],
    "children.consent_age": 16,
    "notice.material_change_days": 30,
    "support_access.approval_required": True,
    "support_access.max_hours": 8,
    "audit.retention_days": 730,
}


def upgrade() -> None:
    op.create_table(
        "facito_audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facito_audit_chain_head")),
    )
    op.create_table(
        "facito_audit_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
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
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facito_audit_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_facito_audit_events_seq")),
    )
    with op.batch_alter_table("facito_audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_facito_audit_events_action", ["action", "seq"], unique=False)
        batch_op.create_index("ix_facito_audit_events_target", ["target_id", "seq"], unique=False)

    op.create_table(
        "privacy_statement_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version_label", sa.String(length=40), nullable=False),
        sa.Column("last_updated", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "published", name="statement_status", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("published_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "effective_from", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("material", sa.Boolean(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("bodies", sa.JSON(), nullable=False),
        sa.Column(
            "notices_sent_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_statement_versions")),
        sa.UniqueConstraint(
            "version_label", name=op.f("uq_privacy_statement_versions_version_label")
        ),
    )
    with op.batch_alter_table("privacy_statement_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_privacy_statement_versions_status_effective",
            ["status", "effective_from"],
            unique=False,
        )

    op.create_table(
        "organisation_notices",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("statement_published", name="notice_kind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("statement_id", sa.Uuid(), nullable=True),
        sa.Column("material", sa.Boolean(), nullable=False),
        sa.Column("effective_from", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "acknowledged_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_by_oid", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_notices_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["privacy_statement_versions.id"],
            name=op.f("fk_organisation_notices_statement_id_privacy_statement_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_organisation_notices")),
        sa.UniqueConstraint(
            "organisation_id",
            "kind",
            "statement_id",
            name=op.f("uq_organisation_notices_organisation_id_kind_statement_id"),
        ),
    )
    with op.batch_alter_table("organisation_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organisation_notices_org_acknowledged",
            ["organisation_id", "acknowledged_at"],
            unique=False,
        )

    op.create_table(
        "statement_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("statement_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("material", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["privacy_statement_versions.id"],
            name=op.f("fk_statement_changes_statement_id_privacy_statement_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_changes")),
        sa.UniqueConstraint(
            "statement_id",
            "position",
            name=op.f("uq_statement_changes_statement_id_position"),
        ),
    )
    enable_tenant_rls("organisation_notices")
    _seed()


def _seed() -> None:
    when = facito_admin.db.base.UTCDateTime(timezone=True)
    versions = sa.table(
        "privacy_statement_versions",
        sa.column("id", sa.Uuid()),
        sa.column("version_label", sa.String()),
        sa.column("last_updated", sa.Date()),
        sa.column("status", sa.String()),
        sa.column("published_at", when),
        sa.column("effective_from", when),
        sa.column("material", sa.Boolean()),
        sa.column("parameters", sa.JSON()),
        sa.column("bodies", sa.JSON()),
        sa.column("notices_sent_at", when),
        sa.column("created_by", sa.String()),
        sa.column("published_by", sa.String()),
        sa.column("version", sa.Integer()),
        sa.column("created_at", when),
        sa.column("updated_at", when),
    )
    changes = sa.table(
        "statement_changes",
        sa.column("id", sa.Uuid()),
        sa.column("statement_id", sa.Uuid()),
        sa.column("position", sa.Integer()),
        sa.column("summary", sa.String()),
        sa.column("reason", sa.String()),
        sa.column("material", sa.Boolean()),
    )
    op.bulk_insert(
        versions,
        [
            {
                "id": SEED_STATEMENT_ID,
                "version_label": "2019-03-08",
                "last_updated": date(2019, 3, 8),
                "status": "published",
                "published_at": SEED_INSTANT,
                "effective_from": SEED_INSTANT,
                "material": False,
                "parameters": SEED_VALUES,
                # The statement's text is not shipped (facts only); the DPO may add bodies to
                # later versions through the API.
                "bodies": {},
                # Organisations onboarded under it need no notice of it.
                "notices_sent_at": SEED_INSTANT,
                "version": 1,
                "created_at": SEED_INSTANT,
                "updated_at": SEED_INSTANT,
                "created_by": "migration 0006",
                "published_by": "migration 0006",
            }
        ],
    )
    op.bulk_insert(
        changes,
        [
            {
                "id": SEED_CHANGE_ID,
                "statement_id": SEED_STATEMENT_ID,
                "position": 1,
                "summary": "Initial version: the privacy statement last updated on 8 March 2019.",
                "reason": "The first version recorded; the default policy that contracts override.",
                "material": False,
            }
        ],
    )
    heads = sa.table(
        "facito_audit_chain_head",
        sa.column("id", sa.Integer()),
        sa.column("seq", sa.BigInteger()),
        sa.column("hash", sa.String()),
    )
    # audit/chain.genesis_hash("facito"), spelled out so the revision never changes with code.
    genesis = hashlib.sha256(b"facito-audit-genesis:facito").hexdigest()
    op.bulk_insert(heads, [{"id": 1, "seq": 0, "hash": genesis}])


def downgrade() -> None:
    op.drop_table("statement_changes")
    disable_tenant_rls("organisation_notices")
    with op.batch_alter_table("organisation_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_organisation_notices_org_acknowledged")

    op.drop_table("organisation_notices")
    with op.batch_alter_table("privacy_statement_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_privacy_statement_versions_status_effective")

    op.drop_table("privacy_statement_versions")
    with op.batch_alter_table("facito_audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_facito_audit_events_target")
        batch_op.drop_index("ix_facito_audit_events_action")

    op.drop_table("facito_audit_events")
    op.drop_table("facito_audit_chain_head")
