"""What the benches that load data records share: the owner's bulk load (COPY on PostgreSQL,
executemany on SQLite) and this process's memory, sampled while the job under test runs.

Used by bench/retention.py and bench/dsr_export.py; the databases themselves are prepared as
bench/list_accounts.py does (Target, prepare_postgresql).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.list_accounts import Target
from sqlalchemy import JSON, Engine, text

from facito_admin.db.base import new_id, utcnow
from facito_admin.tenants.models import Organisation, OrganisationStatus
from facito_admin.user_data.models import DataRecord

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


def chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
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
