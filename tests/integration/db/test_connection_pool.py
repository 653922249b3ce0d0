"""The pool pings a connection only after it idled: a hot one goes straight to its request,
one the server dropped while it waited is replaced before any request sees it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from facito_admin.db.session import Database

pytestmark = pytest.mark.postgres_only


def _counting_pings(database: Database) -> list[int]:
    pings: list[int] = []
    ping = database.engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    database.engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


def _backend_pid(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def test_a_connection_returned_moments_ago_is_used_without_a_ping(database_url: str):
    database = Database(database_url, pool_size=1, ping_after_idle=60)
    pings = _counting_pings(database)
    try:
        first = _backend_pid(database)  # a new connection: pinged once
        assert [_backend_pid(database) for _ in range(5)] == [first] * 5
        assert len(pings) == 1
    finally:
        database.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_a_request_uses_it(
    database_url: str,
):
    database = Database(database_url, pool_size=1, ping_after_idle=0)
    pings = _counting_pings(database)
    try:
        dropped = _backend_pid(database)
        with Database(database_url, pool_size=1).engine.connect() as admin:
            assert admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        replaced = _backend_pid(database)
        assert replaced != dropped
        assert len(pings) >= 2
    finally:
        database.dispose()


def test_another_database_without_an_idle_ping_would_hand_out_the_dropped_connection(
    database_url: str,
):
    # The other side of the test above: with a long idle window the dropped connection is not
    # pinged, its request fails, and the pool is emptied so that the next one works.
    database = Database(database_url, pool_size=1, ping_after_idle=3600)
    try:
        dropped = _backend_pid(database)
        with Database(database_url, pool_size=1).engine.connect() as admin:
            admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        with pytest.raises(OperationalError):
            _backend_pid(database)
        assert _backend_pid(database) != dropped
    finally:
        database.dispose()
