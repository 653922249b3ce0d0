"""directory sync: the statistics refresh of 0019 analyses the columns a sync looks up by

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 11:30:00.000000

A first sync of 100,000 users refreshes the accounts' planner statistics three times (at about
1,000, 5,000 and 25,000 accounts; directory_sync/tasks.py), and those ANALYZEs took a second of
it (py-spy of bench/directory_sync.py), most of it computing statistics of the 40 columns no
lookup of the sync reads. Here the function analyses only the organisation, the keys a page's
users are looked up by and the status the unique keys' partial indexes depend on: 350 ms
against 143 ms at 300,000 accounts. The table's row and page counts are updated all the same,
and an ANALYZE with a column list leaves autovacuum's count of changes alone, so autovacuum
still analyses every column in its own time.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION refresh_account_statistics() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public SET lock_timeout = '100ms'
AS $$
BEGIN
    ANALYZE public.accounts {columns};
EXCEPTION WHEN lock_not_available THEN
    NULL;
END
$$
"""
_KEYS = "(organisation_id, id, entra_oid, upn_key, email_key, external_id, status)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION.format(columns=_KEYS))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION.format(columns=""))
