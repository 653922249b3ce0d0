"""Selects run from their kept compiled form (db/compiled.py) give what Connection.execute gives:
the same rows with the same keys and values of the same types, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Integer, Select, bindparam, event, exists, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from facito_admin.accounts import listing
from facito_admin.accounts.models import LIVE, Account, AccountStatus
from facito_admin.db.compiled import run_select
from facito_admin.db.session import unit_of_work
from facito_admin.db.tenancy import (
    REUSED_STATEMENT,
    SCOPED_ORGANISATION_PARAMETER,
    _scoped_by_parameter,
)
from facito_admin.runtime import Runtime
from facito_admin.scim import filters
from facito_admin.scim.tokens import _TOKEN_AND_STATUS, create_token
from facito_admin.scim.users import _equality_listing
from facito_admin.tenants.models import Federation, Organisation
from tests.conftest import Org
from tests.factories.accounts import insert_accounts
from tests.factories.audit import admin_ctx

_REUSED = {REUSED_STATEMENT: True}
# Columns of every kind the models store: ids, enums, instants, days, booleans, text, NULLs.
_KINDS = (
    select(
        Account.id,
        Account.status,
        Account.created_at,
        Account.birth_date,
        Account.is_minor,
        Account.display_name,
        Account.manager_id,
        Organisation.status,
        exists().where(Federation.organisation_id == Account.organisation_id).label("known"),
    )
    .join(Organisation, Organisation.id == Account.organisation_id)
    .where(LIVE, Account.version >= bindparam("version", type_=Integer()))
    .order_by(Account.id)
    .execution_options(**_REUSED)
)


@pytest.fixture
def accounts(runtime: Runtime, org_a: Org, org_b: Org) -> list[uuid.UUID]:
    ids = insert_accounts(runtime, org_a.id, ["Ann", "Bob"], birth_date=date(2001, 2, 3))
    ids += insert_accounts(runtime, org_a.id, ["Off"], status=AccountStatus.disabled)
    insert_accounts(runtime, org_b.id, ["Other"])
    return ids


@contextmanager
def _session(runtime: Runtime, org: Org) -> Iterator[Session]:
    with runtime.session(organisation_id=org.id) as session:
        yield session


def _both(session: Session, statement: Select[Any], values: dict[str, Any]) -> tuple[Any, Any]:
    """The rows of run_select and of Connection.execute, the statement as scoped_rows runs it."""
    scoped = _scoped_by_parameter(statement)
    values = {**values, SCOPED_ORGANISATION_PARAMETER: session.info["organisation_id"]}
    connection = session.connection()
    return run_select(connection, scoped, values), connection.execute(scoped, values).all()


def _typed(rows: Any) -> list[list[tuple[str, type, Any]]]:
    return [[(key, type(value), value) for key, value in row._mapping.items()] for row in rows]


def test_rows_of_every_column_kind_equal_those_of_connection_execute(
    runtime: Runtime, org_a: Org, accounts: list[uuid.UUID]
):
    with _session(runtime, org_a) as session:
        for _ in range(2):  # the first run sets up the row maker, the second uses it
            fast, usual = _both(session, _KINDS, {"version": 1})
            assert _typed(fast) == _typed(usual)
            assert [row.id for row in fast] == sorted(accounts)
            assert {row[1] for row in fast} == {AccountStatus.active, AccountStatus.disabled}
            assert all(row.known is True for row in fast)


def test_the_hot_statements_give_what_connection_execute_gives(
    runtime: Runtime, org_a: Org, accounts: list[uuid.UUID]
):
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        token, _ = create_token(session, admin_ctx(org_a.id), description="test", expires_at=None)
        token_id = token.id
    name, value = filters.user_equality('displayName eq "Ann"') or ("", "")
    page, counted = _equality_listing(name)
    listing_statement = listing._statement(
        dialect=runtime.database.engine.dialect.name,
        status=False,
        source=False,
        department=False,
        q=False,
        indexed=False,
        sort="name",
        descending=False,
        after=False,
    )
    cases: list[tuple[Select[Any], dict[str, Any]]] = [
        (_TOKEN_AND_STATUS, {"token_id": token_id}),
        (page, {filters.EQUALITY_VALUE: value, "page_offset": 0, "page_limit": 10}),
        (counted, {filters.EQUALITY_VALUE: value}),
        (listing_statement, {"organisation_id": org_a.id, "limit": 10}),
    ]
    with _session(runtime, org_a) as session:
        for statement, values in cases:
            fast, usual = _both(session, statement, values)
            assert fast, statement
            assert _typed(fast) == _typed(usual), statement


def test_a_select_whose_sql_depends_on_its_parameters_runs_the_usual_way(
    runtime: Runtime, org_a: Org, accounts: list[uuid.UUID]
):
    statement = (
        select(Account.id)
        .where(Account.id.in_(bindparam("ids", expanding=True)))
        .order_by(Account.id)
        .execution_options(**_REUSED)
    )
    with _session(runtime, org_a) as session:
        for ids in (accounts[:1], accounts):
            fast, usual = _both(session, statement, {"ids": ids})
            assert [row.id for row in fast] == [row.id for row in usual] == sorted(ids)


def test_statements_are_seen_by_cursor_events(
    runtime: Runtime, org_a: Org, accounts: list[uuid.UUID]
):
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(runtime.database.engine, "before_cursor_execute", note)
    try:
        with _session(runtime, org_a) as session:
            _both(session, _KINDS, {"version": 1})
    finally:
        event.remove(runtime.database.engine, "before_cursor_execute", note)
    assert len([s for s in seen if "FROM accounts" in s]) == 2


@pytest.mark.postgres_only
def test_a_driver_error_is_sqlalchemys_as_for_any_statement(
    runtime: Runtime, org_a: Org, accounts: list[uuid.UUID]
):
    with _session(runtime, org_a) as session:
        connection = session.connection()
        with pytest.raises(DBAPIError, match="integer"):
            run_select(connection, _scoped_by_parameter(_KINDS), {"version": "not a number"})
