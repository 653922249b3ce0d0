"""Directory sync: a full sync of 100,000 Graph users, then a delta of 1,000 changes.

A fake Graph (users generated page by page on the fly) and a fake Entra token endpoint run in
this process over local HTTPS; the sync runs in a real `facito-admin worker` process, whose
peak RSS (VmHWM) is read from /proc. Baselines, measured in the same run: fetching the same
pages from the same fake without writing anything, and the floor: fetching them and upserting
each page into the accounts with one Core bulk INSERT ... ON CONFLICT DO UPDATE (the columns a
sync writes, a transaction per page, no rules, no audit), once before the syncs and once after
(each into an organisation of its own), averaged.

Goals (issue 3): full sync <= 60 s, worker peak RSS < 300 MB, delta of 1,000 changes <= 3 s.
Issue 13: full sync <= 1.3 x the floor, a full sync that finds nothing changed <= 0.5 x the
first, delta of 1,000 changes <= 0.5 s.

Run (SQLite in a temporary folder by default):
    .venv/bin/python bench/directory_sync.py [--users 100000] [--changes 1000]
    .venv/bin/python bench/directory_sync.py \\
        --database-url postgresql+psycopg://facito_app@127.0.0.1:5432/facito_bench \\
        --migration-url postgresql+psycopg://facito_owner@127.0.0.1:5432/facito_bench \\
        --app-role facito_app
(or FACITO_BENCH_DATABASE_URL / FACITO_BENCH_MIGRATION_URL / FACITO_BENCH_APP_ROLE).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import trustme
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql, sqlite

from facito_admin.accounts.models import Account, AccountSource, AccountStatus
from facito_admin.auth.context import SYSTEM_PRINCIPAL, RequestContext
from facito_admin.bootstrap import build_runtime
from facito_admin.config import load_settings
from facito_admin.db.base import new_id, utcnow
from facito_admin.db.migrations import upgrade
from facito_admin.db.session import unit_of_work
from facito_admin.directory_sync.graph import SELECT
from facito_admin.directory_sync.mapping import GRAPH_FIELDS
from facito_admin.directory_sync.plan import WRITTEN
from facito_admin.directory_sync.service import start_directory_sync
from facito_admin.jobs.models import Job
from facito_admin.organisations import service as organisations
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Federation, FederationStatus

ROOT = Path(__file__).resolve().parents[1]
TENANT = "bbbbbbbb-1111-4111-8111-000000000b01"
CLIENT_ID = "5f0f5a5e-1c1c-4c1c-8c1c-0000000000c1"
PAGE = 999


def oid(n: int) -> str:
    return str(uuid.UUID(int=(0xB5 << 120) | n))


def user(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "id": oid(n),
        "userPrincipalName": f"user{n}@bench.example",
        "mail": f"user{n}@bench.example",
        "displayName": f"Bench User {n}",
        "givenName": "Bench",
        "surname": f"User {n}",
        "accountEnabled": True,
        "employeeId": f"E{n:06d}",
        "department": f"Department {n % 40}",
    } | changes


def changes(users: int, count: int) -> list[dict[str, Any]]:
    """The delta after the full sync: updates, disables, deletions and new users (16:2:1:1)."""
    entries = []
    for i in range(count):
        kind, n = i % 20, (i * 97) % users
        if kind < 16:
            entries.append(user(n, department=f"Moved {i}"))
        elif kind < 18:
            entries.append(user(n, accountEnabled=False))
        elif kind == 18:
            entries.append({"id": oid(n), "@removed": {"reason": "deleted"}})
        else:
            entries.append(user(users + i))
    return entries


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, users: int, change_count: int) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.users = users
        self.delta = changes(users, change_count)
        self.ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        self.socket = context.wrap_socket(self.socket, server_side=True)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"

    def link(self, path: str, **query: Any) -> str:
        rest = "&".join(f"${k}={v}" for k, v in query.items())
        return f"{self.base_url}{path}?$select={SELECT}&{rest}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def log_message(self, *_args: Any) -> None:
        pass

    def _send(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # the token endpoint
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": f"bench.{uuid.uuid4()}"}
        )

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k.lstrip("$"): v[0] for k, v in parse_qs(parts.query).items()}
        srv = self.server
        if parts.path.endswith("/.well-known/openid-configuration"):
            base = f"{srv.base_url}/{TENANT}"
            self._send(
                {
                    "issuer": f"{base}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                }
            )
        elif parts.path == "/v1.0/users":
            skip = int(query.get("skiptoken", 0))
            body: dict[str, Any] = {
                "value": [user(n) for n in range(skip, min(skip + PAGE, srv.users))]
            }
            if skip + PAGE < srv.users:
                body["@odata.nextLink"] = srv.link("/v1.0/users", top=PAGE, skiptoken=skip + PAGE)
            self._send(body)
        elif query.get("deltatoken") == "latest":
            self._send({"value": [], "@odata.deltaLink": srv.link(parts.path, deltatoken=1)})
        else:
            token, skip = int(query.get("deltatoken", 1)), int(query.get("skiptoken", 0))
            entries = srv.delta if token == 1 else []
            body = {"value": entries[skip : skip + PAGE]}
            if skip + PAGE < len(entries):
                body["@odata.nextLink"] = srv.link(
                    parts.path, deltatoken=token, skiptoken=skip + PAGE
                )
            else:
                body["@odata.deltaLink"] = srv.link(parts.path, deltatoken=token + 1)
            self._send(body)


def fetch_all(server: FakeServer, ca_file: str, link: str) -> tuple[float, int]:
    """The baseline: every page from ``link`` on, fetched and parsed, nothing written."""
    started = time.perf_counter()
    entries = 0
    with requests.Session() as http:
        next_link: str | None = link
        while next_link:
            body = http.get(
                next_link, headers={"Authorization": "Bearer x"}, verify=ca_file, timeout=30
            ).json()
            entries += len(body["value"])
            next_link = body.get("@odata.nextLink")
    return time.perf_counter() - started, entries


def floor_sync(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    federation_id: uuid.UUID,
    server: FakeServer,
    ca_file: str,
) -> float:
    """The floor: every page fetched and upserted as it comes, one bulk statement a page."""
    dialect = runtime.database.engine.dialect.name
    base = (postgresql if dialect == "postgresql" else sqlite).insert(Account)
    upsert = base.on_conflict_do_update(
        index_elements=["organisation_id", "entra_oid"],
        set_={name: base.excluded[name] for name in WRITTEN}
        | {"version": Account.version + 1, "updated_at": base.excluded.updated_at},
    )
    started = time.perf_counter()
    with requests.Session() as http:
        next_link: str | None = server.link("/v1.0/users", top=PAGE)
        while next_link:
            body = http.get(
                next_link, headers={"Authorization": "Bearer x"}, verify=ca_file, timeout=30
            ).json()
            now = utcnow()
            rows = []
            for raw in body["value"]:
                row: dict[str, Any] = dict.fromkeys(WRITTEN)
                row.update({name: raw.get(prop) for prop, name in GRAPH_FIELDS.items()})
                upn, email = row["user_principal_name"], row["email"]
                row |= {
                    "upn_key": upn.casefold(),
                    "email_key": email.casefold() if email else None,
                    "name_key": row["display_name"].casefold(),
                    "entra_oid": raw["id"],
                    "source": AccountSource.graph,
                    "directory_federation_id": federation_id,
                    "status": AccountStatus.active if raw["accountEnabled"] else "disabled",
                    "status_changed_at": now,
                    "organisation_id": organisation_id,
                    "id": new_id(),
                    "version": 1,
                    "is_minor": False,
                    "created_at": now,
                    "updated_at": now,
                }
                rows.append(row)
            with unit_of_work(runtime, organisation_id=organisation_id) as session:
                session.execute(upsert, rows)
            next_link = body.get("@odata.nextLink")
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def idle_rss_mb(pid: int) -> float:
    """The worker's RSS once it has started up (stable for a second)."""
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current = next(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        )
        if current != last:
            last, stable_since = current, time.monotonic()
        elif time.monotonic() - stable_since > 1:
            break
        time.sleep(0.1)
    return last / 1024


def prepare_database(url: str, migration_url: str | None, app_role: str | None) -> None:
    if url.startswith("postgresql"):
        owner = create_engine(migration_url or url)
        with owner.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        owner.dispose()
    upgrade(migration_url or url, app_role=app_role)


def run_sync(runtime: Runtime, organisation_id: uuid.UUID, mode: str) -> uuid.UUID:
    ctx = RequestContext(principal=SYSTEM_PRINCIPAL, request_id=f"bench-{mode}")
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        return start_directory_sync(session, ctx, federation_id=None, mode=mode).id


def wait(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    job_id: uuid.UUID,
    worker: subprocess.Popen[bytes],
) -> Job:
    while True:
        with runtime.session(organisation_id=organisation_id) as session:
            job = session.get(Job, (organisation_id, job_id))
            assert job is not None
            if job.finished_at is not None:
                return job
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited ({worker.returncode})")
        time.sleep(0.1)


def worker_env(url: str, folder: Path, server: FakeServer, ca_file: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FACITO_")} | {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "FACITO_ENV": "development",
        "FACITO_DEV_ISSUER_ENABLED": "false",
        "FACITO_DATABASE_URL": url,
        "FACITO_INSTANCE_PATH": str(folder / "instance"),
        "FACITO_HUEY_URL": f"sqlite:///{folder / 'huey.db'}",
        "FACITO_LOG_LEVEL": "WARNING",
        "FACITO_GRAPH_BASE_URL": server.base_url,
        "FACITO_AUTHORITY_HOST": server.base_url,
        "FACITO_CA_BUNDLE": ca_file,
        "FACITO_CLIENT_ID": CLIENT_ID,
        "FACITO_CLIENT_SECRET": "bench-secret",
    }


def create_organisation(
    runtime: Runtime, slug: str = "bench", tenant: str = TENANT
) -> tuple[uuid.UUID, uuid.UUID]:
    """An organisation with an active federation of ``tenant``, and that federation."""
    ctx = RequestContext(principal=SYSTEM_PRINCIPAL, request_id="bench-setup")
    with unit_of_work(runtime, organisation_id=None) as session:
        organisation = organisations.create_organisation(
            session,
            ctx,
            slug=slug,
            name=f"{slug.title()} B.V.",
            primary_region="transip-nl-amsterdam",
            backup_region="azure-de",
        )
        federation = Federation(
            organisation_id=organisation.id,
            tenant_id=tenant,
            status=FederationStatus.active,
            consented_at=utcnow(),
        )
        session.add(federation)
        session.flush()
        return organisation.id, federation.id


class Runner:
    """Syncs run by the worker process, timed by their job's own timestamps."""

    def __init__(
        self, runtime: Runtime, organisation_id: uuid.UUID, worker: subprocess.Popen[bytes]
    ) -> None:
        self.runtime = runtime
        self.organisation_id = organisation_id
        self.worker = worker

    def sync(self, mode: str) -> tuple[Job, float]:
        job_id = run_sync(self.runtime, self.organisation_id, mode)
        job = wait(self.runtime, self.organisation_id, job_id, self.worker)
        assert job.started_at is not None and job.finished_at is not None
        return job, (job.finished_at - job.started_at).total_seconds()


def measure(
    runner: Runner,
    server: FakeServer,
    ca_file: str,
    floor_organisations: list[tuple[uuid.UUID, uuid.UUID]],
    second_full: bool,
) -> None:
    """The syncs and the floor around them, printed as they come."""
    fetch_seconds, fetched = fetch_all(server, ca_file, server.link("/v1.0/users", top=PAGE))
    delta_fetch, _ = fetch_all(server, ca_file, server.link("/v1.0/users/delta", deltatoken=1))
    print(f"baseline: fetch every page, write nothing: {fetch_seconds:6.2f} s ({fetched:,})")
    floors = [floor_sync(runner.runtime, *floor_organisations[0], server, ca_file)]
    print(f"floor: fetch + Core bulk upsert, before the syncs: {floors[0]:6.2f} s")
    print(f"worker RSS when idle: {idle_rss_mb(runner.worker.pid):6.1f} MB")
    full, first = runner.sync("full")
    print(
        f"full sync:  {first:6.2f} s  (goal <= 60 s)  {full.state.value}  "
        f"ratio to fetch {first / fetch_seconds:5.2f}"
    )
    print(f"            {json.dumps(full.result)}")
    print(f"worker peak RSS after full: {peak_rss_mb(runner.worker.pid):6.1f} MB (goal < 300 MB)")
    floors.append(floor_sync(runner.runtime, *floor_organisations[1], server, ca_file))
    floor = sum(floors) / len(floors)
    print(
        f"floor: fetch + Core bulk upsert, after the first sync: {floors[1]:6.2f} s; "
        f"mean {floor:6.2f} s; full sync / floor {first / floor:5.2f} (goal <= 1.3)"
    )
    if second_full:
        again, seconds = runner.sync("full")
        print(
            f"full sync again, nothing changed: {seconds:6.2f} s  {again.state.value}  "
            f"ratio to the first {seconds / first:5.2f} (goal <= 0.5)"
        )
        print(f"            {json.dumps(again.result)}")
    delta, seconds = runner.sync("delta")
    print(
        f"delta sync: {seconds:6.2f} s  (goal <= 0.5 s) {delta.state.value}  "
        f"ratio to fetch {seconds / delta_fetch:5.2f} (fetch {delta_fetch:.3f} s)"
        f"\n            {json.dumps(delta.result)}"
    )
    print(f"worker peak RSS at the end: {peak_rss_mb(runner.worker.pid):6.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--database-url", default=os.environ.get("FACITO_BENCH_DATABASE_URL"))
    parser.add_argument("--migration-url", default=os.environ.get("FACITO_BENCH_MIGRATION_URL"))
    parser.add_argument("--app-role", default=os.environ.get("FACITO_BENCH_APP_ROLE"))
    parser.add_argument(
        "--second-full", action="store_true", help="also a full sync that finds nothing to change"
    )
    args = parser.parse_args()

    server = FakeServer(args.users, args.changes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        ca_file = str(Path(tmp) / "ca.pem")
        server.ca.cert_pem.write_to_path(ca_file)
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        prepare_database(url, args.migration_url, args.app_role)
        env = worker_env(url, Path(tmp), server, ca_file)
        settings = load_settings(
            {"database_url": url, "huey_url": env["FACITO_HUEY_URL"], "instance_path": Path(tmp)}
        )
        runtime = build_runtime(settings)
        organisation_id, _ = create_organisation(runtime)
        # The floor's organisations, each with a federation of a tenant of its own.
        floor_organisations = [
            create_organisation(runtime, f"floor-{n}", TENANT[:-1] + str(n + 2)) for n in range(2)
        ]
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"{backend}: {args.users:,} users, pages of {PAGE}, worker in its own process")
        worker = subprocess.Popen(
            [sys.executable, "-m", "facito_admin.cli", "worker", "--workers", "1", "--no-periodic"],
            cwd=ROOT,
            env=env,
        )
        try:
            runner = Runner(runtime, organisation_id, worker)
            measure(runner, server, ca_file, floor_organisations, args.second_full)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
            runtime.dispose()
            server.shutdown()


if __name__ == "__main__":
    main()
