"""PostgreSQL row-level security for tenant tables: the second wall under the ORM guard.

Migrations call :func:`enable_tenant_rls` for every tenant-scoped table they create; the test
tests/tenancy/test_rls.py checks every such table has it.
"""

from __future__ import annotations

from alembic import op

POLICY = "tenant_isolation"
_PREDICATE = (
    "current_setting('app.cross_organisation', true) = 'on' OR "
    "organisation_id = NULLIF(current_setting('app.organisation_id', true), '')::uuid"
)


def enable_tenant_rls(table: str) -> None:
    """ENABLE and FORCE row-level security with the organisation policy (no-op on SQLite)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY {POLICY} ON "{table}" USING ({_PREDICATE}) WITH CHECK ({_PREDICATE})'
    )


def disable_tenant_rls(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
