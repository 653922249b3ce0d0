"""directory sync: the accounts a full sync found, stored per page, not marked on each account;
a function through which a sync that added many accounts refreshes their planner statistics

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 00:57:36.228611
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from facito_admin.db.rls import disable_tenant_rls, enable_tenant_rls

# ANALYZE is the owner's right; the application role may call this, and only this, instead.
# A lock held by autovacuum (or another sync's ANALYZE) is not waited for: those will do.
REFRESH_FUNCTION = """
CREATE FUNCTION refresh_account_statistics() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public SET lock_timeout = '100ms'
AS $$
BEGIN
    ANALYZE public.accounts;
EXCEPTION WHEN lock_not_available THEN
    NULL;
END
$$
"""

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_sync_seen",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("page", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account_ids", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id", "job_id"],
            ["jobs.organisation_id", "jobs.id"],
            name=op.f("fk_directory_sync_seen_organisation_id_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_directory_sync_seen_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "job_id", "page", name=op.f("pk_directory_sync_seen")
        ),
    )
    enable_tenant_rls("directory_sync_seen")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFRESH_FUNCTION)
    # A full sync under way when this runs restarts its listing (directory_sync/tasks.py).
    # Dropped in place, not by batch mode's copy of the table: on SQLite the copy would lose
    # the account search triggers of 0018 and renumber the rowids its FTS5 table points at.
    op.drop_column("accounts", "directory_seen_run")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION refresh_account_statistics()")
    op.add_column("accounts", sa.Column("directory_seen_run", sa.Uuid(), nullable=True))
    disable_tenant_rls("directory_sync_seen")
    op.drop_table("directory_sync_seen")
