"""What the benches that load data share: the database of a run (Target: a SQLite file, or a
PostgreSQL database recreated with the roles of .ci/run), accounts and organisations as the
owner inserts them, the owner's bulk load of data records (COPY on PostgreSQL, executemany on
SQLite), and this process's memory, sampled while the job under test runs.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import JSON, Engine, create_engine, make_url, text

from facito_admin.accounts.models import AccountSource, AccountStatus
from facito_admin.accounts.rules import key
from facito_admin.db.base import new_id, utcnow
from facito_admin.tenants.models import Organisation, OrganisationStatus
from facito_admin.user_data.models import DataRecord

T = TypeVar("T")
DEPARTMENTS = ("Sales", "Finance", "IT", "HR", "Support", "Legal", "R&D", "Operations")


@dataclass(frozen=True)
class Target:
    """The database the run uses: URL of the app role, of the owner, and what it is."""

    app_url: str
    owner_url: str
    app_role: str | None
    label: str

    @property
    def is_postgresql(self) -> bool:
        return self.app_url.startswith("postgresql")


def bench_target(
    database_url: str | None, folder: Path, *, owner_role: str, admin_user: str
) -> Target:
    """PostgreSQL at ``database_url`` (recreated), else a SQLite file in ``folder``."""
    if database_url:
        return prepare_postgresql(database_url, owner_role, admin_user)
    url = f"sqlite:///{folder / 'bench.db'}"
    return Target(url, url, None, "SQLite (WAL)")


def prepare_postgresql(app_url: str, owner_role: str, admin_user: str) -> Target:
    """Recreate the bench database owned by ``owner_role``, roles as in .ci/run."""
    url = make_url(app_url)
    name, app_role = url.database, url.username
    if not name or not app_role:
        raise SystemExit("--database-url needs a user (the app role) and a database name")
    admin = create_engine(
        url.set(username=admin_user, database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        for role, options in ((owner_role, "LOGIN"), (app_role, _APP_ROLE_OPTIONS)):
            exists = connection.scalar(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            )
            if not exists:
                connection.execute(text(f'CREATE ROLE "{role}" {options}'))
        connection.execute(text(f'CREATE DATABASE "{name}" OWNER "{owner_role}"'))
        connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'UTC'"))
    admin.dispose()
    owner = url.set(username=owner_role).render_as_string(hide_password=False)
    return Target(app_url, owner, app_role, f"PostgreSQL ({name}, app role {app_role})")


_APP_ROLE_OPTIONS = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"


def account_row(
    organisation_id: uuid.UUID,
    i: int,
    *,
    created: datetime,
    display_name: str,
    given_name: str,
    family_name: str,
    email: str,
    upn: str,
    status: AccountStatus = AccountStatus.active,
    entra_oid: str | None = None,
) -> dict[str, Any]:
    """The ``i``-th account of a load as the owner inserts it: keys derived as the service
    derives them, from Graph when it has an Entra object id (else manual, with an HR id), a
    deleted one due for purging 30 days on."""
    deleted = status is AccountStatus.deleted
    return {
        "organisation_id": organisation_id,
        "id": new_id(),
        "user_principal_name": upn,
        "upn_key": key(upn),
        "email": email,
        "email_key": key(email),
        "display_name": display_name,
        "name_key": key(display_name),
        "given_name": given_name,
        "family_name": family_name,
        "employee_number": f"E{i:06d}",
        "department": DEPARTMENTS[i % len(DEPARTMENTS)],
        "manager_id": None,
        "entra_oid": entra_oid,
        "source": AccountSource.graph if entra_oid else AccountSource.manual,
        "external_id": None if entra_oid else f"HR-{i}",
        "status": status,
        "status_changed_at": created,
        "deleted_at": created if deleted else None,
        "purge_after": created + timedelta(days=30) if deleted else None,
        "deleted_from_status": AccountStatus.active if deleted else None,
        "birth_date": None,
        "is_minor": False,
        "adult_on": None,
        "guardian_consent_at": None,
        "created_at": created,
        "updated_at": created,
        "version": 1,
    }


# Columns the rows give as JSON text (what COPY takes); the Core insert on SQLite wants values.
_JSON_COLUMNS = frozenset(c.name for c in DataRecord.__table__.columns if isinstance(c.type, JSON))


def rss_mb() -> float:
    try:
        import psutil

        return float(psutil.Process().memory_info().rss) / 2**20
    except ImportError:
        status = Path("/proc/self/status").read_text(encoding="ascii")
        [line] = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return int(line.split()[1]) / 1024


class RssSampler(threading.Thread):
    """The highest RSS seen while running."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return max(self.peak, rss_mb())


def measure_job(runtime: Any, organisation_id: uuid.UUID, job_id: uuid.UUID) -> JobRun:
    """Run one job in this process, timed, its resident memory sampled; with its result."""
    from facito_admin.jobs.models import Job
    from facito_admin.jobs.queue import queue_of
    from facito_admin.jobs.runner import run_job

    before = rss_mb()
    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    run_job(queue_of(runtime), organisation_id, job_id)
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    with runtime.session(organisation_id=organisation_id) as session:
        job = session.get(Job, (organisation_id, job_id))
        assert job is not None
        result = dict(job.result or {}) | {"state": job.state.value, "error": job.error}
    return JobRun(seconds, before, peak, result)


@dataclass(frozen=True)
class JobRun:
    """How long a job took, the process's memory before it and at its peak, its result."""

    seconds: float
    rss_before_mb: float
    rss_peak_mb: float
    result: dict[str, Any]


def chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """``rows`` in lists of ``size`` (the last one shorter)."""
    chunk: list[T] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def insert_organisation(connection: Any, target: Target, *, slug: str, name: str) -> uuid.UUID:
    """One active organisation, inserted as the owner (cross-organisation for the load)."""
    organisation_id, now = new_id(), utcnow()
    if target.is_postgresql:
        connection.execute(text("SELECT set_config('app.cross_organisation', 'on', true)"))
    connection.execute(
        Organisation.__table__.insert(),
        {
            "id": organisation_id,
            "slug": slug,
            "name": name,
            "status": OrganisationStatus.active,
            "primary_region": "transip-nl-amsterdam",
            "backup_region": "azure-de",
            "created_at": now,
            "updated_at": now,
            "version": 1,
        },
    )
    return organisation_id


def insert_records(
    connection: Any, target: Target, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]
) -> None:
    """Data records, each a tuple of ``columns``: COPY on PostgreSQL, executemany on SQLite."""
    if target.is_postgresql:
        # COPY refuses tables under forced row-level security: the owner lifts it for the load
        # only, in this transaction.
        connection.execute(text("ALTER TABLE data_records NO FORCE ROW LEVEL SECURITY"))
        raw: Any = connection.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY data_records ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        connection.execute(text("ALTER TABLE data_records FORCE ROW LEVEL SECURITY"))
        return
    decoded = [i for i, column in enumerate(columns) if column in _JSON_COLUMNS]
    for batch in chunks(rows, 10_000):
        values = []
        for row in batch:
            value = dict(zip(columns, row, strict=True))
            value |= {columns[i]: json.loads(row[i]) for i in decoded}
            values.append(value)
        connection.execute(DataRecord.__table__.insert(), values)


def analyse(engine: Engine, target: Target) -> None:
    """Fresh planner statistics after the load (PostgreSQL)."""
    if target.is_postgresql:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
