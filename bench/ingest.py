"""Ingestion of linked data records: our batch route against a bare SQLAlchemy Core bulk insert of
the same rows, in the same run, on the same database.

What it does, for one database (SQLite by default, PostgreSQL with --database-url):
1. migrates a fresh database and creates two organisations (active federations) with the same
   number of accounts each, bulk-inserted (no audit events);
2. builds the records once: --records items (default 100,000) over those accounts, cycling
   through products, categories (with a purpose each allows), storage regions, content or a
   content reference, in batches of --batch (default 1,000);
3. the baseline: a bare SQLAlchemy Core ``insert(data_records)`` with executemany of the same
   rows (already typed: ids, instants) into the second organisation, one transaction per batch,
   on an engine configured as the app's, as the app role (on PostgreSQL with
   app.organisation_id set, so row-level security applies); on PostgreSQL, ANALYZE before
   each side, as autovacuum would have by then;
4. ours: the app (`wsgi:app` under gunicorn, one sync worker, production-like settings) takes
   the same batches as JSON bodies on POST /v1/organisations/{org}/data-records/batch, one after
   the other from a client in this process (bodies encoded before the clock starts), with a
   real bearer token: JSON parsing, validation of every item, the account, product and policy
   checks, the upsert lookup, the insert, the audit event and the webhook event included;
5. prints both throughputs (records/s), the ratio ours / bare (goal >= 0.5) and what a batch
   of ours cost in the first and last tenth of the run, then checks that both organisations
   hold every record.

Not a test and never gating CI: compare ratios, not absolute figures (load average printed).

Run:
    python bench/ingest.py                                      # SQLite in a temp folder
    python bench/ingest.py --database-url \
        postgresql+psycopg://facito_app@127.0.0.1:5432/facito_bench  # recreates facito_bench
    python bench/ingest.py --records 2000 --batch 500           # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.list_accounts import AUTHORITY  # noqa: E402
from bench.loading import Target, bench_target  # noqa: E402
from bench.loadtest import gunicorn, load_average  # noqa: E402

from facito_admin.accounts.models import Account, AccountSource, AccountStatus  # noqa: E402
from facito_admin.accounts.rules import key  # noqa: E402
from facito_admin.audit.chain import genesis_hash  # noqa: E402
from facito_admin.audit.models import AuditChainHead  # noqa: E402
from facito_admin.auth.dev_issuer import load_or_create_key, mint_token  # noqa: E402
from facito_admin.config import DEV_CLIENT_ID  # noqa: E402
from facito_admin.db.base import new_id, utcnow  # noqa: E402
from facito_admin.db.migrations import upgrade  # noqa: E402
from facito_admin.db.session import Database  # noqa: E402
from facito_admin.tenants.models import (  # noqa: E402
    Federation,
    FederationStatus,
    Organisation,
    OrganisationStatus,
)
from facito_admin.user_data.models import DataRecord  # noqa: E402

TARGET_RATIO = 0.5
PRODUCTS = ("web-development", "app-development")
# (category, a purpose it serves): every item passes the purpose check.
CATEGORIES = (
    ("content.files", "service_delivery"),
    ("content.communications", "support"),
    ("usage.device", "product_improvement"),
    ("identity.contact", "marketing"),
)
STORAGE = (("transip", "transip-nl-amsterdam"), ("azure", "azure-de"))


@dataclass(frozen=True)
class Organisations:
    ours: uuid.UUID
    ours_tenant: str
    bare: uuid.UUID
    ours_accounts: list[uuid.UUID]
    bare_accounts: list[uuid.UUID]


def _owner_connection(engine: Any, target: Target) -> Any:
    connection = engine.connect()
    if target.is_postgresql:
        # The owner is subject to row-level security too (FORCE): load across tenants.
        connection.execute(text("SELECT set_config('app.cross_organisation', 'on', false)"))
    return connection


def create_organisations(target: Target, accounts: int) -> Organisations:
    """Two organisations with active federations and ``accounts`` accounts each."""
    engine = create_engine(target.owner_url)
    now = utcnow()
    ids = {"ours": new_id(), "bare": new_id()}
    tenants = {name: str(uuid.uuid4()) for name in ids}
    account_ids: dict[str, list[uuid.UUID]] = {name: [] for name in ids}
    with _owner_connection(engine, target) as connection:
        for name, organisation_id in ids.items():
            connection.execute(
                Organisation.__table__.insert(),
                {
                    "id": organisation_id,
                    "slug": f"bench-{name}",
                    "name": f"Bench {name} B.V.",
                    "status": OrganisationStatus.active,
                    "primary_region": "transip-nl-amsterdam",
                    "backup_region": "azure-de",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                },
            )
            connection.execute(
                Federation.__table__.insert(),
                {
                    "id": new_id(),
                    "organisation_id": organisation_id,
                    "tenant_id": tenants[name],
                    "status": FederationStatus.active,
                    "consented_at": now,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            # The audit chain every organisation starts with (audit.service.start_chain).
            connection.execute(
                AuditChainHead.__table__.insert(),
                {
                    "organisation_id": organisation_id,
                    "seq": 0,
                    "hash": genesis_hash(str(organisation_id)),
                },
            )
            rows = []
            for i in range(accounts):
                upn = f"user{i:05d}@{name}.example"
                account_ids[name].append(new_id())
                rows.append(
                    {
                        "organisation_id": organisation_id,
                        "id": account_ids[name][-1],
                        "user_principal_name": upn,
                        "upn_key": key(upn),
                        "email": upn,
                        "email_key": key(upn),
                        "display_name": f"User {i}",
                        "name_key": key(f"User {i}"),
                        "source": AccountSource.manual,
                        "status": AccountStatus.active,
                        "status_changed_at": now,
                        "is_minor": False,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
            connection.execute(Account.__table__.insert(), rows)
        connection.commit()
    engine.dispose()
    return Organisations(
        ids["ours"], tenants["ours"], ids["bare"], account_ids["ours"], account_ids["bare"]
    )


def build_items(count: int, accounts: int) -> list[dict[str, Any]]:
    """The records as batch items (JSON-ready), without account ids (index into accounts)."""
    start = utcnow() - timedelta(days=365)
    items = []
    for i in range(count):
        category, purpose = CATEGORIES[i % len(CATEGORIES)]
        subprocessor, region = STORAGE[i % len(STORAGE)]
        item: dict[str, Any] = {
            "account": i % accounts,
            "product": PRODUCTS[i % len(PRODUCTS)],
            "category": category,
            "source_system": "hr-suite",
            "external_key": f"rec-{i:07d}",
            "storage": {"subprocessor": subprocessor, "region": region},
            "sensitive": i % 10 == 0,
            "occurred_at": (start + timedelta(seconds=i * 60)).isoformat(),
            "purposes": [purpose],
        }
        if i % 5 == 4:
            item["content_ref"] = f"https://files.example/hr/{i}"
        else:
            item["content"] = {"subject": f"Document {i}", "size": i % 9000, "tags": ["hr"]}
        items.append(item)
    return items


def bare_rows(
    items: list[dict[str, Any]], organisation_id: uuid.UUID, accounts: list[uuid.UUID]
) -> list[dict[str, Any]]:
    """The same records as typed table rows (what an ORM-free loader would insert)."""
    now = utcnow()
    return [
        {
            "organisation_id": organisation_id,
            "id": new_id(),
            "account_id": accounts[item["account"]],
            "product": item["product"],
            "category": item["category"],
            "source_system": item["source_system"],
            "external_key": item["external_key"],
            "subprocessor": item["storage"]["subprocessor"],
            "region": item["storage"]["region"],
            "content": item.get("content"),
            "content_ref": item.get("content_ref"),
            "sensitive": item["sensitive"],
            "purposes": item["purposes"],
            "occurred_at": datetime.fromisoformat(item["occurred_at"]),
            "deleted_at": None,
            "created_at": now,
            "updated_at": now,
        }
        for item in items
    ]


def run_bare(target: Target, organisation_id: uuid.UUID, batches: list[list[dict]]) -> float:
    """Seconds for the bare Core bulk insert of every batch, one transaction each.

    The engine is configured as the app's (db/session.py: on SQLite WAL, synchronous=NORMAL,
    foreign keys), so that both sides pay the same per commit; everything above it is Core.
    """
    engine = Database(target.app_url).engine
    table = DataRecord.__table__
    started = time.perf_counter()
    with engine.connect() as connection:
        for batch in batches:
            if target.is_postgresql:
                connection.exec_driver_sql(
                    "SELECT set_config('app.organisation_id', %(org)s, true)",
                    {"org": str(organisation_id)},
                )
            connection.execute(table.insert(), batch)
            connection.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def run_ours(base: str, organisation_id: uuid.UUID, token: str, bodies: list[bytes]) -> list[float]:
    """Seconds of each POST of every body to the batch route, one after the other."""
    url = f"{base}/v1/organisations/{organisation_id}/data-records/batch"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    times = []
    for body in bodies:
        started = time.perf_counter()
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=120) as response:
            if response.status != 200:
                raise SystemExit(f"batch answered {response.status}: {response.read()[:300]!r}")
            response.read()
        times.append(time.perf_counter() - started)
    return times


def analyse(target: Target) -> None:
    """ANALYZE on PostgreSQL (SQLite picks the unique index without statistics)."""
    if not target.is_postgresql:
        return
    engine = create_engine(target.owner_url)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()


def count_records(target: Target, organisation_id: uuid.UUID) -> int:
    engine = create_engine(target.owner_url)
    with _owner_connection(engine, target) as connection:
        found = connection.scalar(
            select(func.count())
            .select_from(DataRecord.__table__)
            .where(DataRecord.__table__.c.organisation_id == organisation_id)
        )
    engine.dispose()
    return int(found or 0)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--database-url", help="PostgreSQL URL of the app role (recreated!)")
    parser.add_argument("--owner-role", default="facito_owner")
    parser.add_argument("--admin-user", default="postgres", help="creates the database")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=1000, help="per organisation")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="facito-bench-ingest-"))
    try:
        target = bench_target(
            args.database_url, workdir, owner_role=args.owner_role, admin_user=args.admin_user
        )
        print(f"== {target.label}; {os.cpu_count()} CPUs; load average {load_average()}")
        upgrade(target.owner_url, app_role=target.app_role)
        orgs = create_organisations(target, args.accounts)
        items = build_items(args.records, args.accounts)
        chunks = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
        bodies = [
            json.dumps(
                {
                    "records": [
                        {k: v for k, v in item.items() if k != "account"}
                        | {"account_id": str(orgs.ours_accounts[item["account"]])}
                        for item in chunk
                    ]
                }
            ).encode()
            for chunk in chunks
        ]
        rows = [bare_rows(chunk, orgs.bare, orgs.bare_accounts) for chunk in chunks]
        print(f"{args.records} records in {len(chunks)} batches of {args.batch}")

        analyse(target)
        bare_seconds = run_bare(target, orgs.bare, rows)
        # Statistics of the table the bare load filled, as autovacuum would gather them: a
        # planner that believes data_records empty scans the organisation's records for the
        # upsert's lookup instead of using the unique index.
        analyse(target)
        instance = workdir / "instance"
        token = mint_token(
            load_or_create_key(instance),
            authority_host=AUTHORITY,
            audience=DEV_CLIENT_ID,
            tenant_id=orgs.ours_tenant,
            object_id=str(uuid.uuid4()),
            roles=["Integration.ReadWrite"],
            app_only=True,
            lifetime_seconds=4 * 3600,
        )
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "FACITO_ENV": "development",
            "FACITO_DEV_ISSUER_ENABLED": "true",
            "FACITO_DATABASE_URL": target.app_url,
            "FACITO_INSTANCE_PATH": str(instance),
            "FACITO_AUTHORITY_HOST": AUTHORITY,
            "FACITO_CLIENT_ID": DEV_CLIENT_ID,
            "FACITO_LOG_LEVEL": "INFO",
            "FACITO_RATE_LIMIT": "1000000000/minute",
            "PROMETHEUS_MULTIPROC_DIR": str(workdir),
        }
        with gunicorn("wsgi:app", env, workers=1, log=workdir / "ours.log", cwd=ROOT) as base:
            times = run_ours(base, orgs.ours, token, bodies)
        ours_seconds = sum(times)
        tenth = max(1, len(times) // 10)
        # A batch should cost the same on a full table as on an empty one.
        print(
            f"ours per batch: first tenth {1000 * sum(times[:tenth]) / tenth:.0f} ms, "
            f"last tenth {1000 * sum(times[-tenth:]) / tenth:.0f} ms"
        )

        ours_rate, bare_rate = args.records / ours_seconds, args.records / bare_seconds
        print(f"bare Core bulk insert: {bare_seconds:8.2f} s  {bare_rate:10.0f} records/s")
        print(f"ours (POST batch):     {ours_seconds:8.2f} s  {ours_rate:10.0f} records/s")
        ratio = ours_rate / bare_rate
        verdict = "meets" if ratio >= TARGET_RATIO else "misses"
        print(f"ratio ours / bare: {ratio:.2f} ({verdict} the goal of >= {TARGET_RATIO})")
        print(f"load average {load_average()}")
        for name, organisation_id in (("ours", orgs.ours), ("bare", orgs.bare)):
            found = count_records(target, organisation_id)
            if found != args.records:
                raise SystemExit(f"{name}: {found} records stored, {args.records} sent")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
