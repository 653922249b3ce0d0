"""One periodic schedule for the whole deployment, however many consumers run.

Every `facito-admin worker` (and the development server's consumer) runs huey's scheduler, but
only the holder of a lease in the database enqueues the periodic tasks (the job reaper, the
domains' scans). Once a minute each scheduler tries to take or renew the lease with one
conditional UPDATE; the holder renews it, the others find it held and do nothing. A holder that
dies stops renewing, and the next scheduler to find its lease expired takes over. The lease
also keeps the last minute whose tasks were enqueued: whoever holds it next enqueues the tasks
of every minute since (a daily scan that fell in a takeover's gap still runs once, and none
runs twice). A holder that died on the same host is replaced at once, without waiting for its
lease to run out (a worker restarted after a crash). The periodic tasks are idempotent scans,
so a holder that stalls past its lease and overlaps its successor for a minute does no harm.

huey has no such lock for periodic tasks (each consumer with `periodic=True` runs them all), and
a Redis lock would leave the SQLite queue of development without one; the database is there in
every deployment.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from huey.consumer import Scheduler
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from ..db.base import utcnow
from ..db.session import Database
from .models import ScheduleLease

log = structlog.get_logger("facito_admin.jobs.schedule")

PERIODIC_SCHEDULE = "periodic"
# Renewed every minute: two missed renewals before another consumer may take over.
LEASE_SECONDS = 150
# How far back a new holder catches up on missed minutes (a deployment down for longer
# restarts its scans afresh; they find whatever is due by themselves).
CATCH_UP = timedelta(hours=24)


def holder_name() -> str:
    """This process, as the lease names it (host, pid, and a nonce for a reused pid)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ScheduleLeases:
    """Take, renew and release the lease of one schedule in the database."""

    def __init__(
        self,
        database: Database,
        *,
        holder: str | None = None,
        name: str = PERIODIC_SCHEDULE,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.database = database
        self.holder = holder or holder_name()
        self.name = name
        self.lease = timedelta(seconds=lease_seconds)

    def claim(self, minute: datetime, *, now: datetime | None = None) -> list[datetime] | None:
        """Hold the lease for ``minute``: the minutes whose tasks to enqueue, or None if another
        consumer holds it.

        The minutes run from the one after the last enqueued (by any holder, at most a day
        back) to ``minute``; a holder ticking each minute gets just ``minute``.
        """
        now = now or utcnow()
        with self.database.engine.begin() as connection:
            row = connection.execute(
                select(
                    ScheduleLease.holder, ScheduleLease.expires_at, ScheduleLease.last_minute
                ).where(ScheduleLease.name == self.name)
            ).one_or_none()
            if row is None:
                raise RuntimeError(
                    f"no schedule lease {self.name!r}: run `facito-admin db upgrade`"
                )
            holder, expires_at, last_minute = row
            held = expires_at is not None and expires_at > now and not died_here(holder)
            if holder not in (None, self.holder) and held:
                return None
            # Only if nobody moved it since we read it (compare-and-set: SQLite and PostgreSQL).
            taken = connection.execute(
                update(ScheduleLease)
                .where(
                    ScheduleLease.name == self.name,
                    _is(ScheduleLease.holder, holder),
                    _is(ScheduleLease.expires_at, expires_at),
                )
                .values(holder=self.holder, expires_at=now + self.lease, last_minute=minute)
            )
            if taken.rowcount != 1:
                return None
        if holder != self.holder:
            log.info("periodic schedule taken over", holder=self.holder, previous=holder)
        return _minutes_since(last_minute, minute)

    def release(self) -> None:
        """Let another consumer take the schedule at its next minute (a graceful stop).

        Best effort: with the database gone, the lease simply runs out, and the stop goes on.
        """
        try:
            with self.database.engine.begin() as connection:
                connection.execute(
                    update(ScheduleLease)
                    .where(ScheduleLease.name == self.name, ScheduleLease.holder == self.holder)
                    .values(expires_at=utcnow())
                )
        except SQLAlchemyError:
            log.warning("periodic schedule: the lease could not be released", exc_info=True)


def died_here(holder: str | None) -> bool:
    """Whether ``holder`` was a process of this host that no longer runs.

    A worker restarted after a crash takes the schedule at once instead of waiting for its
    predecessor's lease to run out. Only a pid that is certainly gone counts: a live pid (even
    another process that reuses it) or another host's holder waits for the lease.
    """
    host, _, rest = (holder or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _is(column: Any, value: object) -> Any:
    return column.is_(None) if value is None else column == value


def _minutes_since(last: datetime | None, minute: datetime) -> list[datetime]:
    if last is None or last >= minute:
        return [minute]
    start = max(last + timedelta(minutes=1), minute - CATCH_UP)
    count = int((minute - start) / timedelta(minutes=1)) + 1
    return [start + timedelta(minutes=step) for step in range(count)]


class LeasedScheduler(Scheduler):  # type: ignore[misc] # huey ships no type hints
    """huey's scheduler, enqueueing the periodic tasks only while it holds the lease."""

    def __init__(self, *args: Any, leases: ScheduleLeases, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.leases = leases

    def enqueue_periodic_tasks(self, now: datetime | None) -> None:
        """Take or renew the lease; if held, enqueue each task due in a minute since the last."""
        moment = now or self.huey._get_timestamp()  # naive UTC: huey's own clock
        minute = moment.replace(second=0, microsecond=0, tzinfo=UTC)
        try:
            minutes = self.leases.claim(minute)
        except SQLAlchemyError:
            log.warning("periodic schedule: the lease could not be read", exc_info=True)
            return
        if minutes is None:
            return
        due: dict[str, Any] = {}
        for each in minutes:
            for task in self.huey.read_periodic(each.replace(tzinfo=None)):
                due.setdefault(task.name, task)
        for task in due.values():
            try:
                self.huey.enqueue(task)
            except Exception:  # one task's broker error must not stop the rest
                log.exception("periodic task not enqueued", task=task.name)
