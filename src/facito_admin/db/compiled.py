"""Selects built once and run on every request, run from a compiled form kept for them.

SQLAlchemy does the same work on every execution of a statement: it hashes the statement's
cache key to find the compiled form, builds an execution context, reads the cursor's
description (the driver builds an object per column) and a result, then the rows. For a
statement object built once (db/tenancy.py: REUSED_STATEMENT) that work never changes, and on
the hot reads (the SCIM token check and filtered get, the account list) it cost more than the
driver's own: 110 us a token check against 40 us for the same SQL on the cursor
(bench/scim.py; issue 13).

:func:`run_select` keeps the compiled form per statement object and dialect and runs it on the
connection's cursor through ``Connection._cursor_execute``, SQLAlchemy's own path for the
statements it runs outside an execution context: cursor events (tests count statements with
them), echo logging and the translation of driver errors (503 on a lost database; a dropped
connection is discarded) stay as they were. Parameters pass the compiled statement's bind
processors and values its result processors, and rows are SQLAlchemy rows with the keys
``Connection.execute`` gives them (tests/integration/db/test_compiled_selects.py holds the
two together). A statement whose SQL depends on its parameters (expanding IN, literal
execution), whose columns are not plainly its own, or whose keys repeat, runs the usual way.

The attributes read here are SQLAlchemy internals of the 2.1 series (pyproject pins it).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Row, Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.result import SimpleResultMetaData
from sqlalchemy.sql.compiler import SQLCompiler

_PLANS_MAX = 2048


class _Plan:
    """A select compiled once, and the row maker its first execution sets up."""

    __slots__ = ("compiled", "escaped", "keys", "make_row", "positions", "processors", "sql")

    def __init__(self, compiled: SQLCompiler) -> None:
        self.compiled = compiled
        self.sql = compiled.string
        self.positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.escaped = compiled.escaped_bind_names
        self.processors: Mapping[str, Callable[[Any], Any]] = dict(compiled._bind_processors)  # type: ignore[arg-type]
        self.keys = [column.keyname for column in compiled._result_columns]
        self.make_row: Callable[[Sequence[Any]], Row[Any]] | None = None

    def parameters(self, values: Mapping[str, Any], dialect: Dialect) -> Any:
        """What the driver receives: as _init_compiled of SQLAlchemy's context builds it."""
        given = self.compiled.construct_params(values, escape_names=False, _check=False)
        processors = self.processors
        if self.positions is not None:
            return dialect.execute_sequence_format(
                [
                    processors[key](given[key]) if key in processors else given[key]
                    for key in self.positions
                ]
            )
        escaped = self.escaped
        return {
            (escaped.get(key, key) if escaped else key): (
                processors[key](value) if key in processors else value
            )
            for key, value in given.items()
        }

    def row_maker(self, dialect: Dialect, description: Sequence[Any]) -> Callable[..., Any]:
        """Rows as Connection.execute makes them: its result processors, its keys."""
        columns = self.compiled._result_columns
        if len(columns) != len(description):
            raise _NotPlain
        processors = [
            column.type._cached_result_processor(dialect, described[1])
            for column, described in zip(columns, description, strict=True)
        ]
        metadata = SimpleResultMetaData(self.keys)
        return functools.partial(
            Row,
            metadata,
            processors if any(processors) else None,
            metadata._key_to_index,
        )


class _NotPlain(Exception):
    """The statement is run the usual way."""


_plans: OrderedDict[tuple[Select[Any], Dialect], _Plan | None] = OrderedDict()
_plans_lock = threading.Lock()


def _plan(statement: Select[Any], dialect: Dialect) -> _Plan | None:
    key = (statement, dialect)
    try:
        return _plans[key]
    except KeyError:
        pass
    compiled = statement.compile(dialect=dialect)
    plain = (
        isinstance(compiled, SQLCompiler)
        and not compiled.literal_execute_params
        and not compiled.post_compile_params
        and not compiled._textual_ordered_columns
        and not compiled._ad_hoc_textual
        and not compiled._loose_column_name_matching
        and compiled._result_columns
        and len({c.keyname for c in compiled._result_columns}) == len(compiled._result_columns)
        # A tuple's processors come as a sequence, for an expanding IN (not plain anyway).
        and all(callable(processor) for processor in compiled._bind_processors.values())
    )
    plan = _Plan(compiled) if plain else None
    with _plans_lock:
        _plans[key] = plan
        while len(_plans) > _PLANS_MAX:
            _plans.popitem(last=False)
    return plan


def _forget(statement: Select[Any], dialect: Dialect) -> None:
    with _plans_lock:
        _plans[(statement, dialect)] = None


def run_select(
    connection: Connection, statement: Select[Any], values: Mapping[str, Any]
) -> Sequence[Row[Any]]:
    """The rows of ``statement``, a select built once, with ``values`` for its parameters."""
    if connection.get_execution_options().get("schema_translate_map"):
        return connection.execute(statement, values).all()
    dialect = connection.dialect
    plan = _plan(statement, dialect)
    if plan is None:
        return connection.execute(statement, values).all()
    parameters = plan.parameters(values, dialect)
    cursor = connection.connection.cursor()
    try:
        connection._cursor_execute(cursor, plan.sql, parameters)
        try:
            data = cursor.fetchall()
            make_row = plan.make_row
            if make_row is None:
                make_row = plan.make_row = plan.row_maker(dialect, cursor.description)
        except _NotPlain:
            _forget(statement, dialect)
            return connection.execute(statement, values).all()
        except Exception as error:  # noqa: BLE001 - translated as SQLAlchemy would
            connection._handle_dbapi_exception(error, plan.sql, parameters, cursor, None)
    finally:
        cursor.close()
    return [make_row(values_of_row) for values_of_row in data]


def run_driver_sql(connection: Connection, sql: str, parameters: Any = ()) -> None:
    """Run SQL written for the driver whose result nobody reads (transaction control, settings)
    on the connection's cursor, with the same events and error translation as above: without
    exec_driver_sql's execution context and result, a third of its cost."""
    cursor = connection.connection.cursor()
    try:
        connection._cursor_execute(cursor, sql, parameters)
    finally:
        cursor.close()
