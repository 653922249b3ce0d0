"""linked data, consents, retention: data records, preference changes, guardian consents,
legal holds, deletion certificates

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:36:54.556244
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import facito_admin.db.base
from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deletion_certificates",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "retention",
                "account_purge",
                "erasure",
                "offboarding",
                name="deletion_kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("statement_version_id", sa.Uuid(), nullable=True),
        sa.Column("statement_version_label", sa.String(length=64), nullable=True),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("contract_reference", sa.String(length=200), nullable=True),
        sa.Column("removed", sa.JSON(), nullable=False),
        sa.Column("removed_total", sa.Integer(), nullable=False),
        sa.Column("kept_by_holds", sa.JSON(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deletion_certificates_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_deletion_certificates")),
        info={"resource": "deletion certificate"},
    )
    enable_tenant_rls("deletion_certificates")
    with op.batch_alter_table("deletion_certificates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deletion_certificates_org_kind", ["organisation_id", "kind", "id"], unique=False
        )

    op.create_table(
        "data_records",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("source_system", sa.String(length=100), nullable=False),
        sa.Column("external_key", sa.String(length=200), nullable=False),
        sa.Column("subprocessor", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("content", sa.JSON(), nullable=True),
        sa.Column("content_ref", sa.String(length=2048), nullable=True),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("occurred_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "NOT (content IS NOT NULL AND content_ref IS NOT NULL)",
            name=op.f("ck_data_records_content_or_reference"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "account_id"],
            ["accounts.organisation_id", "accounts.id"],
            name=op.f("fk_data_records_organisation_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_data_records_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product"], ["products.code"], name=op.f("fk_data_records_product_products")
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_data_records")),
        sa.UniqueConstraint(
            "organisation_id",
            "source_system",
            "external_key",
            name=op.f("uq_data_records_organisation_id_source_system_external_key"),
        ),
        info={"resource": "data record"},
    )
    enable_tenant_rls("data_records")
    with op.batch_alter_table("data_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_data_records_org_account", ["organisation_id", "account_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_data_records_org_account_category",
            ["organisation_id", "account_id", "category", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_data_records_org_account_product",
            ["organisation_id", "account_id", "product", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_data_records_org_category_occurred",
            ["organisation_id", "category", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_data_records_org_deleted",
            ["organisation_id", "deleted_at"],
            unique=False,
            sqlite_where=sa.text("deleted_at IS NOT NULL"),
            postgresql_where=sa.text("deleted_at IS NOT NULL"),
        )

    op.create_table(
        "guardian_consents",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("guardian_name", sa.String(length=200), nullable=False),
        sa.Column("guardian_contact", sa.String(length=320), nullable=False),
        sa.Column("relationship", sa.String(length=32), nullable=False),
        sa.Column("verification_method", sa.String(length=32), nullable=False),
        sa.Column("verified_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("recorded_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_display", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.String(length=200), nullable=True),
        sa.Column("revoked_by_display", sa.String(length=200), nullable=True),
        sa.Column("revocation_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id", "account_id"],
            ["accounts.organisation_id", "accounts.id"],
            name=op.f("fk_guardian_consents_organisation_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_guardian_consents_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_guardian_consents")),
        info={"resource": "guardian consent"},
    )
    enable_tenant_rls("guardian_consents")
    with op.batch_alter_table("guardian_consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_guardian_consents_org_account",
            ["organisation_id", "account_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_guardian_consents_in_force",
            ["organisation_id", "account_id"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )

    op.create_table(
        "legal_holds",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "organisation",
                "account",
                "account_category",
                name="legal_hold_scope",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("created_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.String(length=200), nullable=False),
        sa.Column("created_by_display", sa.String(length=200), nullable=False),
        sa.Column("released_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by_id", sa.String(length=200), nullable=True),
        sa.Column("released_by_display", sa.String(length=200), nullable=True),
        sa.Column("release_reason", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "(scope = 'organisation' AND account_id IS NULL AND category IS NULL) OR (scope = 'account' AND account_id IS NOT NULL AND category IS NULL) OR (scope = 'account_category' AND account_id IS NOT NULL AND category IS NOT NULL)",
            name=op.f("ck_legal_holds_scope_matches_target"),
        ),
        # No foreign key to accounts: a released hold outlives the account it named (its
        # history is the record of the hold; retention/models.py:LegalHold says why).
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_legal_holds_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_legal_holds")),
        info={"resource": "legal hold"},
    )
    enable_tenant_rls("legal_holds")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_legal_holds_org_account", ["organisation_id", "account_id"], unique=False
        )
        batch_op.create_index(
            "ix_legal_holds_org_released", ["organisation_id", "released_at", "id"], unique=False
        )

    op.create_table(
        "preference_changes",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("changed_at", facito_admin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("actor_display", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("statement_version_id", sa.Uuid(), nullable=True),
        sa.Column("statement_version_label", sa.String(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id", "account_id"],
            ["accounts.organisation_id", "accounts.id"],
            name=op.f("fk_preference_changes_organisation_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_preference_changes_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "id", name=op.f("pk_preference_changes")),
        info={"resource": "preference change"},
    )
    enable_tenant_rls("preference_changes")
    with op.batch_alter_table("preference_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_preference_changes_org_account",
            ["organisation_id", "account_id", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("preference_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_preference_changes_org_account")

    disable_tenant_rls("preference_changes")
    op.drop_table("preference_changes")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_holds_org_released")
        batch_op.drop_index("ix_legal_holds_org_account")

    disable_tenant_rls("legal_holds")
    op.drop_table("legal_holds")
    with op.batch_alter_table("guardian_consents", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_guardian_consents_in_force",
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )
        batch_op.drop_index("ix_guardian_consents_org_account")

    disable_tenant_rls("guardian_consents")
    op.drop_table("guardian_consents")
    with op.batch_alter_table("data_records", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_data_records_org_deleted",
            sqlite_where=sa.text("deleted_at IS NOT NULL"),
            postgresql_where=sa.text("deleted_at IS NOT NULL"),
        )
        batch_op.drop_index("ix_data_records_org_category_occurred")
        batch_op.drop_index("ix_data_records_org_account_product")
        batch_op.drop_index("ix_data_records_org_account_category")
        batch_op.drop_index("ix_data_records_org_account")

    disable_tenant_rls("data_records")
    op.drop_table("data_records")
    with op.batch_alter_table("deletion_certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_deletion_certificates_org_kind")

    disable_tenant_rls("deletion_certificates")
    op.drop_table("deletion_certificates")
