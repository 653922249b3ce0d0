"""Data-subject request export: one subject with 100,000 linked data records, zipped.

What it does, for one database (SQLite in a temporary folder by default, PostgreSQL with
--database-url, recreated with the roles of .ci/run as bench/list_accounts.py does):
1. loads one organisation whose contract makes Facito the processor of the product (so the
   organisation controls the data and its export takes every record), the subject and ten
   colleagues, ``--records`` data records of the subject with ~250 bytes of JSON content each,
   spread over six categories, and a tenth as many of the colleagues (COPY on PostgreSQL,
   executemany on SQLite; as the owner, no audit events), then ANALYZE on PostgreSQL; one
   scan of the rows warms the cache for both sides;
2. the real thing: an access request filed and fulfilled through the services, its
   `dsr-export` job run by the job runner in this process, as a worker runs it (claim,
   heartbeat, one read snapshot, keyset batches, spool files, stream-zip, the rename, the
   request's results, timeline and audit event); its time, and this process's RSS growth
   while it runs (sampled every 20 ms from /proc/self/status, or psutil);
3. baseline: a bare script over the same rows: per category one SQLAlchemy Core query
   (streamed, as the app role) written as a JSON array and a CSV member by the standard
   library's zipfile (deflate, the same level), no manifest, no checks; its time and RSS growth.

Prints both, with the ratio export / baseline, and checks that the export holds every record.
Goals (issue 11): <= 30 s on PostgreSQL, RSS growth <= 150 MB. Not a test; never gates CI.

Run:
    .venv/bin/python bench/dsr_export.py [--records 100000]
    .venv/bin/python bench/dsr_export.py --database-url \\
        postgresql+psycopg://facito_app@127.0.0.1:5432/facito_bench_export
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.list_accounts import _account_rows  # noqa: E402
from bench.loading import (  # noqa: E402
    RssSampler,
    Target,
    analyse,
    bench_target,
    insert_organisation,
    insert_records,
    measure_job,
    rss_mb,
)

from facito_admin.accounts.models import Account  # noqa: E402
from facito_admin.audit.service import start_chain  # noqa: E402
from facito_admin.auth.context import SYSTEM_PRINCIPAL, RequestContext  # noqa: E402
from facito_admin.bootstrap import build_runtime  # noqa: E402
from facito_admin.common.archives import COMPRESSION_LEVEL  # noqa: E402
from facito_admin.config import load_settings  # noqa: E402
from facito_admin.db.base import new_id, utcnow  # noqa: E402
from facito_admin.db.migrations import upgrade  # noqa: E402
from facito_admin.db.session import unit_of_work  # noqa: E402
from facito_admin.policies.contracts.service import create_contract  # noqa: E402
from facito_admin.subject_requests import service as requests  # noqa: E402
from facito_admin.subject_requests.export import export_folder  # noqa: E402
from facito_admin.subject_requests.models import Channel, RequestKind  # noqa: E402
from facito_admin.user_data.models import DataRecord  # noqa: E402

PRODUCT = "web-development"
CATEGORIES = (
    "content.files",
    "content.messages",
    "identity.contact",
    "identity.organisation",
    "usage.activity",
    "usage.error_reports",
)
COLLEAGUES = 10
COLUMNS = (
    *("organisation_id", "id", "account_id", "product", "category", "source_system"),
    *("external_key", "subprocessor", "region", "sensitive", "purposes", "content"),
    *("occurred_at", "created_at", "updated_at"),
)
BODY = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. " * 2


def _record_rows(
    organisation_id: uuid.UUID, account_id: uuid.UUID, count: int, prefix: str
) -> Iterator[tuple[Any, ...]]:
    now = utcnow()
    for i in range(count):
        content = {"title": f"Item {i} of {prefix}", "body": BODY, "n": i, "tags": ["a", "b"]}
        yield (
            organisation_id,
            new_id(),
            account_id,
            PRODUCT,
            CATEGORIES[i % len(CATEGORIES)],
            "bench",
            f"{prefix}-{i}",
            "transip",
            "transip-nl-amsterdam",
            False,
            "[]",
            json.dumps(content),
            now - timedelta(seconds=i),
            now,
            now,
        )


def load(target: Target, records: int) -> tuple[uuid.UUID, uuid.UUID]:
    """The organisation, its accounts and records, as the owner; (organisation, subject)."""
    engine = create_engine(target.owner_url)
    with engine.begin() as connection:
        organisation_id = insert_organisation(
            connection, target, slug="bench-export", name="Bench Export B.V."
        )
        accounts = list(_account_rows(organisation_id, 1 + COLLEAGUES, "bench-export"))
        for account in accounts:
            account.update(status="active", deleted_at=None, purge_after=None)
            account["deleted_from_status"] = None
        connection.execute(Account.__table__.insert(), accounts)
        subject = accounts[0]["id"]
        rows = _record_rows(organisation_id, subject, records, "subject")
        insert_records(connection, target, COLUMNS, rows)
        for n, colleague in enumerate(accounts[1:]):
            rows = _record_rows(
                organisation_id, colleague["id"], records // 10 // COLLEAGUES, f"c{n}"
            )
            insert_records(connection, target, COLUMNS, rows)
    analyse(engine, target)
    engine.dispose()
    return organisation_id, subject


def _app_connection(engine: Any, target: Target, organisation_id: uuid.UUID) -> Any:
    connection = engine.connect()
    if target.is_postgresql:
        connection.execute(
            text("SELECT set_config('app.organisation_id', :org, false)"),
            {"org": str(organisation_id)},
        )
    return connection


def warm(target: Target, organisation_id: uuid.UUID, subject: uuid.UUID) -> int:
    """One scan of the subject's rows, so that neither side pays the cold cache."""
    engine = create_engine(target.app_url)
    table = DataRecord.__table__
    with _app_connection(engine, target, organisation_id) as connection:
        found = connection.execute(
            select(func.count(), func.max(func.length(cast(table.c.content, Text)))).where(
                table.c.organisation_id == organisation_id, table.c.account_id == subject
            )
        ).one()
    engine.dispose()
    return int(found[0])


def baseline(target: Target, organisation_id: uuid.UUID, subject: uuid.UUID, path: Path) -> int:
    """The bare export: per category a streamed Core query into a JSON and a CSV member."""
    engine = create_engine(target.app_url)
    table = DataRecord.__table__
    written = 0
    with (
        _app_connection(engine, target, organisation_id) as connection,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL) as zf,
    ):
        for category in CATEGORIES:
            query = (
                select(table)
                .where(
                    table.c.organisation_id == organisation_id,
                    table.c.account_id == subject,
                    table.c.category == category,
                    table.c.deleted_at.is_(None),
                )
                .order_by(table.c.id)
            )
            rows = connection.execution_options(yield_per=2000).execute(query).mappings()
            csv_buffer = io.StringIO()
            writer = csv.writer(csv_buffer)
            writer.writerow(COLUMNS)
            with zf.open(f"records/{category}.json", "w", force_zip64=True) as member:
                member.write(b"[")
                for n, row in enumerate(rows):
                    values = {k: row[k] for k in COLUMNS}
                    member.write(
                        (b",\n" if n else b"\n") + json.dumps(values, default=str).encode()
                    )
                    writer.writerow([values[k] for k in COLUMNS])
                    written += 1
                member.write(b"\n]\n")
            zf.writestr(f"records/{category}.csv", csv_buffer.getvalue())
    engine.dispose()
    return written


def run_export(
    target: Target, tmp: Path, organisation_id: uuid.UUID, subject: uuid.UUID
) -> tuple[float, float, float, dict[str, Any], Path]:
    """File, fulfil and run the export job: seconds, RSS before and peak, result, file."""
    settings = load_settings(
        {"database_url": target.app_url, "instance_path": tmp, "log_level": "WARNING"}
    )
    runtime = build_runtime(settings)
    ctx = RequestContext(principal=SYSTEM_PRINCIPAL, request_id="bench-export")
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        start_chain(session)
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        create_contract(
            session,
            ctx,
            reference="BENCH-1",
            signed_on=date.today() - timedelta(days=30),  # noqa: DTZ011 - a calendar day
            effective_from=utcnow() - timedelta(days=1),
            effective_to=None,
            products=[{"code": PRODUCT, "role": "processor"}],
            overrides={},
        )
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        filed = requests.file_request(
            session,
            ctx,
            account_id=subject,
            kind=RequestKind.access,
            description="all my data",
            scope={},
            channel=Channel.web_form,
            on_behalf_of=None,
            guardian_consent_id=None,
        )
        request_id = filed.request.id
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        job_id = requests.start_fulfilment(session, ctx, request_id=request_id)[1].id
    run = measure_job(runtime, organisation_id, job_id)
    path = export_folder(runtime, organisation_id) / f"{request_id}.zip"
    runtime.dispose()
    return run.seconds, run.rss_before_mb, run.rss_peak_mb, run.result, path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("FACITO_BENCH_DATABASE_URL"))
    parser.add_argument("--owner-role", default="facito_owner")
    parser.add_argument("--admin-user", default="postgres")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        target = bench_target(
            args.database_url, tmp, owner_role=args.owner_role, admin_user=args.admin_user
        )
        started = time.perf_counter()
        upgrade(target.owner_url, app_role=target.app_role)
        organisation_id, subject = load(target, args.records)
        warm(target, organisation_id, subject)
        print(
            f"== {target.label}: {args.records:,} records of one subject (+{args.records // 10:,}"
            f" of colleagues), loaded in {time.perf_counter() - started:.1f} s"
        )

        seconds, before, peak, result, path = run_export(target, tmp, organisation_id, subject)
        size = path.stat().st_size if path.exists() else 0
        print(
            f"export job ({result['state']}): {seconds:6.2f} s, {result.get('records', 0):,} "
            f"records, {size / 2**20:.1f} MB; RSS {before:.0f} MB -> peak {peak:.0f} MB "
            f"(growth {peak - before:.1f} MB)"
        )
        if result["state"] != "succeeded":
            print(f"!! the job ended {result['state']}: {result['error']}")
        elif result.get("records") != args.records:
            print(f"!! the export holds {result.get('records')}, not {args.records}")

        base_before = rss_mb()
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        base_rows = baseline(target, organisation_id, subject, tmp / "bare.zip")
        base_seconds = time.perf_counter() - started
        base_peak = sampler.stop()
        print(
            f"baseline: bare Core query + stdlib zipfile: {base_seconds:6.2f} s, {base_rows:,} "
            f"records, {(tmp / 'bare.zip').stat().st_size / 2**20:.1f} MB; RSS growth "
            f"{base_peak - base_before:.1f} MB"
        )
        print(
            f"ratio export / baseline: {seconds / max(base_seconds, 1e-9):.2f} "
            "(goals: export <= 30 s on PostgreSQL, RSS growth <= 150 MB)"
        )


if __name__ == "__main__":
    main()
