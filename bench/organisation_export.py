"""An organisation's full export (offboarding): 100,000 linked data records and more, zipped.

What it does, for one database (SQLite in a temporary folder by default, PostgreSQL with
--database-url, recreated with the roles of .ci/run), on the data bench/dsr_export.py loads
(one organisation, eleven accounts, ``--records`` records of one and a tenth as many of the
others, ~250 bytes of JSON content each):
1. the real thing: `POST …/exports` through the service and its `organisation-export` job run
   by the job runner in this process, as a worker runs it (claim, heartbeat, one read
   snapshot, keyset pages of every table, spool files, stream-zip, the rename, the audit
   event); its time, and this process's RSS growth while it runs;
2. baseline: a bare script writing the same data records as JSON lines through one streamed
   SQLAlchemy Core query and the standard library's zipfile; its time and RSS growth.

Prints both with the ratio, and checks that the export holds every record. The point is the
memory: it must stay flat however large the organisation. Not a test; never gates CI.

Run:
    .venv/bin/python bench/organisation_export.py [--records 100000]
    .venv/bin/python bench/organisation_export.py --database-url \\
        postgresql+psycopg://facito_app@127.0.0.1:5432/facito_bench_org_export
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.dsr_export import _app_connection, load, warm  # noqa: E402
from bench.loading import RssSampler, Target, bench_target, measure_job, rss_mb  # noqa: E402

from facito_admin.audit.service import start_chain  # noqa: E402
from facito_admin.auth.context import SYSTEM_PRINCIPAL, RequestContext  # noqa: E402
from facito_admin.bootstrap import build_runtime  # noqa: E402
from facito_admin.common.archives import COMPRESSION_LEVEL  # noqa: E402
from facito_admin.config import load_settings  # noqa: E402
from facito_admin.db.migrations import upgrade  # noqa: E402
from facito_admin.db.session import unit_of_work  # noqa: E402
from facito_admin.offboarding.exports import export_folder, start_export  # noqa: E402
from facito_admin.user_data.models import DataRecord  # noqa: E402


def baseline(target: Target, organisation_id: uuid.UUID, path: Path) -> int:
    """The bare export: every data record of the organisation as JSON lines, one member."""
    engine = create_engine(target.app_url)
    table = DataRecord.__table__
    written = 0
    with (
        _app_connection(engine, target, organisation_id) as connection,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL) as zf,
        zf.open("data-records.jsonl", "w", force_zip64=True) as member,
    ):
        query = select(table).where(table.c.organisation_id == organisation_id)
        rows = connection.execution_options(yield_per=2000).execute(query.order_by(table.c.id))
        for row in rows.mappings():
            member.write(json.dumps(dict(row), default=str).encode() + b"\n")
            written += 1
    engine.dispose()
    return written


def run_export(
    target: Target, tmp: Path, organisation_id: uuid.UUID
) -> tuple[float, float, float, dict[str, Any], Path]:
    """Start and run the export job: seconds, RSS before and peak, result, file."""
    settings = load_settings(
        {"database_url": target.app_url, "instance_path": tmp, "log_level": "WARNING"}
    )
    runtime = build_runtime(settings)
    ctx = RequestContext(principal=SYSTEM_PRINCIPAL, request_id="bench-org-export")
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        start_chain(session)
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        export, job = start_export(session, ctx)
        export_id, job_id = export.id, job.id
    run = measure_job(runtime, organisation_id, job_id)
    path = export_folder(runtime, organisation_id) / f"organisation-{export_id}.zip"
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
        expected = args.records + args.records // 10 // 10 * 10
        print(
            f"== {target.label}: {expected:,} records of one organisation, loaded in "
            f"{time.perf_counter() - started:.1f} s"
        )

        seconds, before, peak, result, path = run_export(target, tmp, organisation_id)
        size = path.stat().st_size if path.exists() else 0
        records = result.get("counts", {}).get("data_records", 0)
        print(
            f"export job ({result['state']}): {seconds:6.2f} s, {records:,} records, "
            f"{size / 2**20:.1f} MB; RSS {before:.0f} MB -> peak {peak:.0f} MB "
            f"(growth {peak - before:.1f} MB)"
        )
        if result["state"] != "succeeded":
            print(f"!! the job ended {result['state']}: {result['error']}")
        elif records != expected:
            print(f"!! the export holds {records} records, not {expected}")

        base_before = rss_mb()
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        base_rows = baseline(target, organisation_id, tmp / "bare.zip")
        base_seconds = time.perf_counter() - started
        base_peak = sampler.stop()
        print(
            f"baseline: bare Core query + stdlib zipfile: {base_seconds:6.2f} s, {base_rows:,} "
            f"records; RSS growth {base_peak - base_before:.1f} MB"
        )
        print(
            f"ratio export / baseline: {seconds / max(base_seconds, 1e-9):.2f} "
            "(the goal is memory: RSS growth flat, <= 150 MB)"
        )


if __name__ == "__main__":
    main()
