"""Retention run: 1,000,000 linked data records in one organisation, 10 % of them expired.

What it does, for one database (SQLite in a temporary folder by default, PostgreSQL with
--database-url, recreated with the roles of .ci/run as bench/list_accounts.py does):
1. loads one organisation with 1,000 accounts and ``--records`` data records spread over the
   catalogue's categories, every tenth one past any category's retention (COPY on PostgreSQL,
   executemany on SQLite; as the owner, no audit events), then ANALYZE on PostgreSQL;
2. baseline: the bare purge, one `DELETE … WHERE category = … AND occurred_at <= cutoff` per
   category over the same rows, in a transaction rolled back (so the data stays for the run);
3. the real thing: a `retention-run` job enqueued by the service and run by the job runner in
   this process, as a worker runs it (claim, heartbeat, batches committed with checkpoints,
   holds checked, certificate); its time, and this process's RSS growth while it runs
   (sampled every 20 ms from /proc/self/status, or psutil).

Prints both times and the ratio run / baseline. Goals (issue 10): ≤ 60 s on PostgreSQL,
RSS growth ≤ 150 MB. Not a test; never gates CI.

Run:
    .venv/bin/python bench/retention.py [--records 1000000]
    .venv/bin/python bench/retention.py --database-url \\
        postgresql+psycopg://facito_app@127.0.0.1:5432/facito_bench_retention
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, text

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.list_accounts import _account_rows  # noqa: E402
from bench.loading import (  # noqa: E402
    RssSampler,
    Target,
    analyse,
    bench_target,
    chunks,
    insert_organisation,
    insert_records,
    rss_mb,
)

from facito_admin.accounts.models import Account  # noqa: E402
from facito_admin.audit.service import start_chain  # noqa: E402
from facito_admin.auth.context import SYSTEM_PRINCIPAL, RequestContext  # noqa: E402
from facito_admin.bootstrap import build_runtime  # noqa: E402
from facito_admin.config import load_settings  # noqa: E402
from facito_admin.db.base import new_id, utcnow  # noqa: E402
from facito_admin.db.migrations import upgrade  # noqa: E402
from facito_admin.db.session import unit_of_work  # noqa: E402
from facito_admin.jobs.models import Job  # noqa: E402
from facito_admin.jobs.queue import queue_of  # noqa: E402
from facito_admin.jobs.runner import run_job  # noqa: E402
from facito_admin.policies.categories import CATEGORIES  # noqa: E402
from facito_admin.retention.runs import start_retention_run  # noqa: E402
from facito_admin.user_data.models import DataRecord  # noqa: E402

ACCOUNTS = 1_000
# Past every category's default retention (the longest is 2,555 days).
EXPIRED_DAYS = 3_000
COLUMNS = (
    *("organisation_id", "id", "account_id", "product", "category", "source_system"),
    *("external_key", "subprocessor", "region", "sensitive", "purposes", "occurred_at"),
    *("created_at", "updated_at"),
)


def _record_rows(
    organisation_id: uuid.UUID, accounts: list[uuid.UUID], count: int
) -> Iterator[tuple[Any, ...]]:
    now = utcnow()
    categories = sorted(CATEGORIES)
    # JSON text, as COPY takes it (the Core insert on SQLite passes the list itself).
    purposes = "[]"
    for i in range(count):
        expired = i % 10 == 0
        occurred = now - timedelta(days=EXPIRED_DAYS if expired else 1, seconds=i % 86_400)
        yield (
            organisation_id,
            new_id(),
            accounts[i % len(accounts)],
            "microsoft-365",
            categories[(i // 10) % len(categories)],
            "bench",
            f"r{i}",
            "transip",
            "transip-nl-amsterdam",
            False,
            purposes,
            occurred,
            now,
            now,
        )


def load(target: Target, records: int) -> uuid.UUID:
    """One organisation, its accounts and records, as the owner; the organisation's id."""
    engine = create_engine(target.owner_url)
    with engine.begin() as connection:
        organisation_id = insert_organisation(
            connection, target, slug="bench-retention", name="Bench Retention B.V."
        )
        accounts: list[uuid.UUID] = []
        for batch in chunks(_account_rows(organisation_id, ACCOUNTS, "bench-retention"), 10_000):
            connection.execute(Account.__table__.insert(), batch)
            accounts += [row["id"] for row in batch]
        insert_records(
            connection, target, COLUMNS, _record_rows(organisation_id, accounts, records)
        )
    analyse(engine, target)
    engine.dispose()
    return organisation_id


def baseline(target: Target, organisation_id: uuid.UUID) -> tuple[float, int]:
    """The bare purge over the same rows, rolled back: seconds and rows deleted."""
    engine = create_engine(target.owner_url)
    cutoff = utcnow() - timedelta(days=EXPIRED_DAYS - 10)
    table = DataRecord.__table__
    deleted = 0
    with engine.connect() as connection:
        transaction = connection.begin()
        if target.is_postgresql:
            connection.execute(text("SELECT set_config('app.cross_organisation', 'on', true)"))
        started = time.perf_counter()
        for category in sorted(CATEGORIES):
            deleted += connection.execute(
                delete(table).where(
                    table.c.organisation_id == organisation_id,
                    table.c.category == category,
                    table.c.occurred_at <= cutoff,
                )
            ).rowcount
        seconds = time.perf_counter() - started
        transaction.rollback()
    engine.dispose()
    return seconds, deleted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("FACITO_BENCH_DATABASE_URL"))
    parser.add_argument("--owner-role", default="facito_owner")
    parser.add_argument("--admin-user", default="postgres")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        target = bench_target(
            args.database_url, Path(tmp), owner_role=args.owner_role, admin_user=args.admin_user
        )
        started = time.perf_counter()
        upgrade(target.owner_url, app_role=target.app_role)
        organisation_id = load(target, args.records)
        print(
            f"== {target.label}: {args.records:,} records, 10 % expired, loaded in "
            f"{time.perf_counter() - started:.1f} s"
        )
        base_seconds, base_rows = baseline(target, organisation_id)
        print(
            f"baseline: bare DELETE per category (rolled back): {base_seconds:6.2f} s "
            f"({base_rows:,} rows)"
        )

        settings = load_settings({"database_url": target.app_url, "instance_path": Path(tmp)})
        runtime = build_runtime(settings)
        ctx = RequestContext(principal=SYSTEM_PRINCIPAL, request_id="bench-retention")
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            start_chain(session)
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            job_id = start_retention_run(session, ctx).id
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
            state, result = job.state.value, job.result or {}
        runtime.dispose()
        print(
            f"retention run (job {state}): {seconds:6.2f} s, removed "
            f"{result.get('removed_total', 0):,}; RSS {before:.0f} MB -> peak {peak:.0f} MB "
            f"(growth {peak - before:.1f} MB)"
        )
        if result.get("removed_total") != base_rows:
            print(f"!! the run removed {result.get('removed_total')}, the baseline {base_rows}")
        print(
            f"ratio run / baseline: {seconds / max(base_seconds, 1e-9):.2f} "
            "(goals: run <= 60 s on PostgreSQL, RSS growth <= 150 MB)"
        )


if __name__ == "__main__":
    main()
