"""Engines and sessions: one session per unit of work, serving exactly one organisation."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import NullPool

from .compiled import run_driver_sql
from .tenancy import (
    CROSS_ORGANISATION_KEY,
    DATABASE_TENANT_KEY,
    ORGANISATION_KEY,
    TENANT_IN_FIRST_STATEMENT,
    TenancyViolation,
    database_tenant,
)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE for writing units of work.

    pysqlite's own transaction handling is switched off so that a writing unit of work takes
    SQLite's write lock at BEGIN: a deferred transaction that reads first and writes later fails
    with SQLITE_BUSY under concurrency instead of waiting (the audit chain depends on this).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_begin") == "immediate"
        run_driver_sql(connection, "BEGIN IMMEDIATE" if immediate else "BEGIN")


# A pooled connection idle for longer than this is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 5.0
_RETURNED_AT = "facito_returned_at"


def _ping_when_idle(engine: Engine, after_idle: float) -> None:
    """Ping a pooled connection before use only when it has been idle for ``after_idle`` s.

    What pool_pre_ping is for (a connection the server or a firewall dropped while it waited
    in the pool is replaced, not handed to a request), without its round trip on every
    checkout: on PostgreSQL that was one statement in five of a list request
    (bench/list_accounts.py). A connection returned moments ago was working then; one the
    database drops in that window fails its request (503) and SQLAlchemy empties the pool.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is not None and time.monotonic() - returned_at < after_idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (up to three tries).
            raise DisconnectionError(f"pooled connection dropped: {error}") from error


class Database:
    """The engines of one database and a factory of sessions bound to one organisation."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
    ) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo}
        pooled = not url.startswith("sqlite")
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if ":memory:" in url:
                raise ValueError("use a file database; in-memory SQLite is one per connection")
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        if url.startswith("postgresql") and url.endswith("#nullpool"):
            kwargs = {"echo": echo, "poolclass": NullPool}
            url = url.removesuffix("#nullpool")
            pooled = False
        self.engine = create_engine(url, **kwargs)
        if pooled:
            _ping_when_idle(self.engine, ping_after_idle)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.is_postgresql = self.engine.dialect.name == "postgresql"
        self._write_engine: Engine = self.engine
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            self._write_engine = self.engine.execution_options(sqlite_begin="immediate")
        self._sessions = sessionmaker(expire_on_commit=False, autoflush=True)

    def session(
        self,
        *,
        organisation_id: uuid.UUID | None = None,
        write: bool = False,
        cross_organisation_reason: str | None = None,
    ) -> Session:
        """A new session; ``write`` takes the write lock up front on SQLite."""
        session = self._sessions(bind=self._write_engine if write else self.engine)
        session.info[ORGANISATION_KEY] = organisation_id
        session.info[CROSS_ORGANISATION_KEY] = cross_organisation_reason
        return session

    def dispose(self) -> None:
        self.engine.dispose()


class SessionSource(Protocol):
    """Opens sessions: the Database itself, or the runtime (whose sessions carry it)."""

    def session(
        self,
        *,
        organisation_id: uuid.UUID | None = None,
        write: bool = False,
        cross_organisation_reason: str | None = None,
    ) -> Session: ...


def bind_organisation(session: Session, organisation_id: uuid.UUID) -> None:
    """Give a session its organisation; a session serves one organisation for its whole life."""
    current = session.info.get(ORGANISATION_KEY)
    if current is not None and current != organisation_id:
        raise TenancyViolation("this session already serves another organisation")
    session.info[ORGANISATION_KEY] = organisation_id
    if session.in_transaction() and session.info.get(DATABASE_TENANT_KEY) != database_tenant(
        session
    ):
        _set_database_tenant(session, session.connection())


# What the transaction was given is kept under DATABASE_TENANT_KEY (db/tenancy.py): binding the
# organisation the transaction already has (the edge binds the one a SCIM token named, its
# authenticator has read that token in it) costs no second round trip.


def _set_database_tenant(session: Session, connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant = database_tenant(session)
    parameters = {"org": tenant[0], "cross": tenant[1]}
    statement = (
        "SELECT set_config('app.organisation_id', %(org)s, true),"
        " set_config('app.cross_organisation', %(cross)s, true)"
    )
    # Transaction-local settings read by the row-level security policies (db/rls.py). This runs
    # at the start of most transactions: sent as driver SQL (psycopg's %-style parameters) on
    # the cursor, which skips the statement compilation and cache of text() and the execution
    # context of exec_driver_sql yet keeps SQLAlchemy's error translation (503 on a lost
    # database) and disconnect handling (db/compiled.py).
    run_driver_sql(connection, statement, parameters)
    session.info[DATABASE_TENANT_KEY] = tenant


def end_read_snapshot(session: Session) -> None:
    """End a transaction that only read, before slow outbound I/O (DNS, Entra).

    A writing session on SQLite holds the database-wide write lock from BEGIN, and a long
    PostgreSQL transaction pins its snapshot; neither should wait on the network. Callers read
    what they need into plain values first (rolling back expires loaded objects) and re-read
    and re-check after the I/O, in the transaction that then writes.
    """
    if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED_KEY):
        raise RuntimeError("end_read_snapshot() after a write would discard it")
    session.rollback()


_FLUSHED_KEY = "flushed_in_transaction"


@event.listens_for(Session, "after_flush")
def _mark_flushed(session: Session, _ctx: Any) -> None:
    session.info[_FLUSHED_KEY] = True


@event.listens_for(Session, "after_transaction_end")
def _clear_flushed(session: Session, transaction: SessionTransaction) -> None:
    # Only the outermost transaction's end discards or keeps the writes (not a savepoint's).
    if transaction.parent is None:
        session.info.pop(_FLUSHED_KEY, None)
        session.info.pop(DATABASE_TENANT_KEY, None)


@event.listens_for(Session, "after_begin")
def _after_begin(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    if session.info.get(TENANT_IN_FIRST_STATEMENT):
        return  # db/tenancy.py: scoped_rows' statement gives the settings
    _set_database_tenant(session, connection)


@contextmanager
def unit_of_work(
    source: SessionSource, *, organisation_id: uuid.UUID | None, write: bool = True
) -> Iterator[Session]:
    """A transaction for jobs and the CLI: committed on success, rolled back on any error."""
    session = source.session(organisation_id=organisation_id, write=write)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def cross_organisation_session(source: SessionSource, *, reason: str) -> Iterator[Session]:
    """The one escape from tenant scoping: read across organisations, for operators and jobs.

    Use it to find *which* organisations have work, then act in one session per organisation.
    """
    if not reason:
        raise ValueError("say why this work crosses organisations")
    session = source.session(cross_organisation_reason=reason)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
