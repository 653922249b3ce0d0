"""Which organisation a token's tenant acts for, remembered per process for a few seconds.

Every request maps its token's `tid` to an organisation (through an active federation) and
checks that organisation is active, or offboarded and still inside its return period (the end
of which is kept with the entry and compared with the clock on every request); staff requests
check the organisation in the path exists.
Both are reads of global tables that change rarely, so each process keeps the answers for
``FACITO_TENANT_CACHE_SECONDS`` (5 by default, 0 turns the cache off):

- a suspension, an offboarding, a federation disabled or removed takes effect at once in the
  process that made the change (its commit clears the caches of the process) and within that
  many seconds in every other process (the README says so);
- only found rows are kept: a tenant without an active federation and an unknown organisation
  are read again on every request, so a new federation works at once and strangers cannot fill
  the cache;
- entries are keyed by the tenant id (or organisation id) they were read for and hold nothing
  else, so one tenant can never be answered with another's organisation.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.util import find_tables

from ..db.session import Database

# Plenty for every federated tenant of a large deployment; the entry read longest ago goes
# first when it is full.
MAX_ENTRIES = 10_000
# The tables whose changes clear the cache when a session of this process commits them.
WATCHED_TABLES = frozenset({"organisations", "federations"})
_CHANGED_KEY = "tenant_directory_changed"

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class TenantOrganisation:
    """The organisation a tenant's active federation belongs to, and whether it is active."""

    organisation_id: uuid.UUID
    active: bool
    # An offboarded organisation's return period ends here (None: it has none, or it is not
    # offboarded): until then its callers may still read and export (auth/context.py).
    return_until: datetime | None = None

    def returning(self, now: datetime) -> bool:
        """Whether the organisation is offboarded and still inside its return period."""
        return not self.active and self.return_until is not None and now < self.return_until


class _TimedCache(Generic[K, V]):
    """A bounded map whose entries live ``ttl`` seconds of the wall clock.

    An entry stored "in the future" (the clock went back) counts as expired, so a clock step
    can shorten an entry's life but never lengthen it. ``generation`` moves on every clear: a
    read that started before a clear does not store what it read.
    """

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if 0 <= self._clock() - stored_at < self.ttl:
            return value
        with self._lock:
            if self._entries.get(key) is entry:
                del self._entries[key]
        return None

    def put(self, key: K, value: V, generation: int) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if generation != self.generation:
                return
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()


TenantLookup = Callable[[Session, str], TenantOrganisation | None]
OrganisationLookup = Callable[[Session, uuid.UUID], bool]


class TenantDirectory:
    """Cached answers of the organisations domain's two lookups (organisations/tenants.py).

    The lookups are handed in (bootstrap.py) so that identity, which every request needs,
    does not depend on the organisations domain.
    """

    def __init__(
        self,
        database: Database,
        *,
        ttl: float,
        find_tenant: TenantLookup,
        organisation_exists: OrganisationLookup,
        clock: Callable[[], float] = time.time,
    ):
        self.database = database
        self.ttl = ttl
        self._find_tenant = find_tenant
        self._organisation_exists = organisation_exists
        self._tenants: _TimedCache[str, TenantOrganisation] = _TimedCache(ttl, clock)
        self._organisations: _TimedCache[uuid.UUID, bool] = _TimedCache(ttl, clock)
        _DIRECTORIES.add(self)

    def organisation_of(self, tenant_id: str) -> TenantOrganisation | None:
        """The organisation of the tenant's active federation, None when there is none."""
        found = self._tenants.get(tenant_id)
        if found is not None:
            return found
        generation = self._tenants.generation
        # A short read of global tables in a session of its own: the request's session may be
        # a writing one, which on SQLite would take the write lock before layers such as
        # idempotency have claimed their key.
        with self.database.session() as session:
            found = self._find_tenant(session, tenant_id)
        if found is not None:
            self._tenants.put(tenant_id, found, generation)
        return found

    def organisation_exists(self, organisation_id: uuid.UUID) -> bool:
        """Whether the organisation exists (offboarded ones too)."""
        if self._organisations.get(organisation_id):
            return True
        generation = self._organisations.generation
        with self.database.session() as session:
            exists = self._organisation_exists(session, organisation_id)
        if exists:
            self._organisations.put(organisation_id, True, generation)
        return exists

    def clear(self) -> None:
        """Forget everything (this process committed a change to organisations or federations)."""
        self._tenants.clear()
        self._organisations.clear()


# Invalidation: a session that wrote organisations or federations (through the unit of work or
# a bulk statement) clears every directory of the process once the change is committed (all of
# them: a process may hold several Database objects of one database, tests do; such changes are
# rare). Clearing before the commit would let a concurrent request re-read and keep the old row.
_DIRECTORIES: weakref.WeakSet[TenantDirectory] = weakref.WeakSet()


def _watched(table: Any) -> bool:
    return getattr(table, "name", None) in WATCHED_TABLES


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session: Session, _flush: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__table__", None)
        if _watched(table):
            session.info[_CHANGED_KEY] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    if _writes_watched(state.statement):
        state.session.info[_CHANGED_KEY] = True


@functools.lru_cache(maxsize=256)
def _writes_watched(statement: Any) -> bool:
    # Remembered per statement object: those built once and run on every request (the audit
    # sealer's, the SCIM create's) are walked once, not on each execution.
    return any(_watched(table) for table in find_tables(statement, include_crud=True))


@event.listens_for(Session, "after_commit")
def _clear_after_commit(session: Session) -> None:
    if not session.info.pop(_CHANGED_KEY, False):
        return
    for directory in list(_DIRECTORIES):
        directory.clear()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    # The outermost transaction was rolled back: nothing it wrote was ever visible.
    session.info.pop(_CHANGED_KEY, None)
