"""PostgreSQL row-level security, the second wall: raw SQL as the application role, no ORM.

The test database URL is the application role's (see .ci/run): it owns no table and is neither
superuser nor BYPASSRLS, so the FORCEd policies apply to every statement below.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Integer, bindparam, event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from facito_admin.audit.models import AuditChainHead
from facito_admin.db.base import Base
from facito_admin.db.rls import POLICY
from facito_admin.db.session import bind_organisation
from facito_admin.db.tenancy import REUSED_STATEMENT, TenantScoped, scoped_rows
from facito_admin.domains import load_models
from facito_admin.runtime import Runtime
from tests.conftest import PG_APP_ROLE, Org

pytestmark = pytest.mark.postgres_only

INSERT_EVENT = text(
    "INSERT INTO audit_events (organisation_id, id, seq, occurred_at, actor_kind, actor_tid,"
    " actor_oid, actor_display, action, target_type, target_id, outcome, request_id, details,"
    " prev_hash, hash) VALUES (:org, :id, 999, now(), 'system', '', '', 'test', 'test:rls',"
    " 'test', 'test', 'success', 'test', '{}', :hash, :hash)"
)


def _tenant_tables() -> list[str]:
    load_models()
    return sorted(
        m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)
    )


@pytest.fixture
def connection(runtime: Runtime) -> Iterator[Connection]:
    """A plain connection of the application role, in a transaction that is rolled back.

    It depends on `database`, so it ends before the cleanup deletes rows it may have locked.
    """
    with runtime.database.engine.connect() as conn:
        conn.begin()
        yield conn
        conn.rollback()


def _serve(connection: Connection, organisation_id: uuid.UUID | None) -> None:
    connection.execute(
        text("SELECT set_config('app.organisation_id', :org, true)"),
        {"org": str(organisation_id) if organisation_id else ""},
    )


def _event_organisations(connection: Connection) -> list[uuid.UUID]:
    return list(connection.execute(text("SELECT organisation_id FROM audit_events")).scalars())


def test_a_raw_select_sees_only_the_organisation_set_for_the_transaction(
    connection: Connection, org_a: Org, org_b: Org
):
    _serve(connection, org_a.id)
    rows = connection.execute(text("SELECT * FROM audit_events")).mappings().all()
    assert rows
    assert {row["organisation_id"] for row in rows} == {org_a.id}
    assert connection.execute(text("SELECT count(*) FROM audit_chain_heads")).scalar() == 1


def test_a_raw_select_without_organisation_sees_nothing(
    connection: Connection, org_a: Org, org_b: Org
):
    assert _event_organisations(connection) == []
    _serve(connection, None)
    assert _event_organisations(connection) == []
    for table in _tenant_tables():
        # Table names come from our own models, not from input.
        count = text(f'SELECT count(*) FROM "{table}"')  # noqa: S608
        assert connection.execute(count).scalar() == 0, table


def test_raw_updates_and_deletes_cannot_reach_the_other_organisation(
    connection: Connection, org_a: Org, org_b: Org
):
    _serve(connection, org_a.id)
    updated = connection.execute(text("UPDATE audit_events SET outcome = 'tampered'"))
    assert updated.rowcount == len(_event_organisations(connection))
    deleted = connection.execute(
        text("DELETE FROM audit_events WHERE organisation_id = :b"), {"b": org_b.id}
    )
    assert deleted.rowcount == 0


def test_inserting_a_row_of_another_organisation_fails_the_policy_check(
    connection: Connection, org_a: Org, org_b: Org
):
    _serve(connection, org_a.id)
    with pytest.raises(DBAPIError, match="row-level security"):
        connection.execute(INSERT_EVENT, {"org": org_b.id, "id": uuid.uuid4(), "hash": "0" * 64})


def test_moving_a_row_to_another_organisation_fails_the_policy_check(
    connection: Connection, org_a: Org, org_b: Org
):
    _serve(connection, org_a.id)
    with pytest.raises(DBAPIError, match="row-level security"):
        connection.execute(text("UPDATE audit_events SET organisation_id = :b"), {"b": org_b.id})


def test_a_row_of_the_organisation_set_may_be_inserted(connection: Connection, org_a: Org):
    _serve(connection, org_a.id)
    connection.execute(INSERT_EVENT, {"org": org_a.id, "id": uuid.uuid4(), "hash": "0" * 64})
    assert len(_event_organisations(connection)) == 2


def test_every_tenant_table_enables_and_forces_row_level_security(connection: Connection):
    tables = _tenant_tables()
    assert tables
    rows = connection.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = 'public'"
            "   AND p.tablename = c.relname AND p.policyname = :policy) AS has_policy"
            " FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
            " AND c.relkind = 'r' AND c.relname = ANY(:tables)"
        ),
        {"tables": tables, "policy": POLICY},
    ).all()
    assert sorted(r.relname for r in rows) == tables
    assert not [r.relname for r in rows if not r.relrowsecurity], "ENABLE ROW LEVEL SECURITY"
    assert not [r.relname for r in rows if not r.relforcerowsecurity], "FORCE ROW LEVEL SECURITY"
    assert not [r.relname for r in rows if not r.has_policy], "enable_tenant_rls() in the migration"


def test_the_application_role_owns_nothing_and_cannot_bypass_policies(connection: Connection):
    role = connection.execute(
        text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    if PG_APP_ROLE:
        assert role.rolname == PG_APP_ROLE
    assert not role.rolsuper
    assert not role.rolbypassrls
    owned = connection.execute(
        text(
            "SELECT c.relname FROM pg_class c"
            " WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            " AND c.relnamespace = 'public'::regnamespace"
        )
    ).all()
    assert owned == []
    schema_owner = connection.execute(
        text("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'")
    ).scalar()
    assert schema_owner != role.rolname


# A scoped read that begins a transaction gives it its settings itself (db/tenancy.py).
_HEADS = select(AuditChainHead.organisation_id).execution_options(**{REUSED_STATEMENT: True})
_SEQ = (
    select(AuditChainHead.seq)
    .where(AuditChainHead.seq >= bindparam("at_least", type_=Integer()))
    .execution_options(**{REUSED_STATEMENT: True})
)


@contextmanager
def _statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(runtime.database.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(runtime.database.engine, "before_cursor_execute", note)


def _settings(session: Session) -> tuple[str, str]:
    found = session.execute(
        text(
            "SELECT current_setting('app.organisation_id', true),"
            " current_setting('app.cross_organisation', true)"
        )
    ).one()
    return (found[0], found[1])


def test_a_scoped_read_that_begins_a_transaction_sets_its_organisation_before_the_policies_read_it(
    runtime: Runtime, org_a: Org, org_b: Org
):
    for organisation in (org_a, org_b):
        with (
            runtime.session(organisation_id=organisation.id) as session,
            _statements(runtime) as seen,
        ):
            assert scoped_rows(session, _HEADS, {}) == [(organisation.id,)]
            # One statement: the read carried the settings, and they hold for the transaction,
            # so that a raw read of every head sees the organisation's own.
            assert len(seen) == 1 and "set_config(" in seen[0], seen
            assert _settings(session) == (str(organisation.id), "off")
            raw = session.execute(text("SELECT organisation_id FROM audit_chain_heads")).all()
            assert raw == [(organisation.id,)]
            # Binding the same organisation again sends nothing.
            sent = len(seen)
            bind_organisation(session, organisation.id)
            assert len(seen) == sent, seen


def test_a_scoped_read_in_a_transaction_already_begun_leaves_its_settings_to_the_session(
    runtime: Runtime, org_a: Org, org_b: Org
):
    with runtime.session(organisation_id=org_a.id) as session, _statements(runtime) as seen:
        assert _settings(session) == (str(org_a.id), "off")
        assert scoped_rows(session, _HEADS, {}) == [(org_a.id,)]
    assert [s for s in seen if "set_config(" in s] == [seen[0]], seen


def test_a_failed_first_read_leaves_no_transaction_without_its_organisation(
    runtime: Runtime, org_a: Org, org_b: Org
):
    with runtime.session(organisation_id=org_a.id) as session:
        with pytest.raises(DBAPIError, match="integer"):
            scoped_rows(session, _SEQ, {"at_least": "not a number"})
        # The next statement runs in a new transaction, given its settings by the session.
        assert _settings(session) == (str(org_a.id), "off")
        assert len(scoped_rows(session, _SEQ, {"at_least": 0})) == 1
