"""`make load`: the topology of ops/topology.py under load and faults, bounded in time.

Scenarios (all by default; `--scenario NAME` for one):

- `load`: 60 s of a realistic mix (ops/locustfile.py: lists, searches, reads, creates, PATCH
  with If-Match, SCIM filtered gets and creates, audit queries) from 16 users spread over both
  API processes. Prints throughput and p50/p99 per operation; no answer may be a 5xx.
- `outage`: the same load while PostgreSQL is stopped (fast shutdown: open transactions are
  rolled back) for 12 s and started again. While it is down the API answers 503
  problem+json, and nothing else of the 5xx family; afterwards both APIs answer again without
  a restart; every account in the database has exactly its creation event, and the audit
  chain verifies (no request was half-applied).
- `race`: 50 concurrent PATCHes of one account carrying the same ETag: exactly one 200, 49
  412s, the winner's value stored, and one update event.
- `kill`: every worker SIGKILLed in the middle of an organisation export (40,000 records), of
  a retention run (half of them expired) and of a full directory sync (20,000 users from the fake
  Graph of bench/directory_sync.py), then started again: each job is taken back (heartbeats
  every 2 s, stale after 10 s here) and ends with what an undisturbed run gives: exactly the
  expired records removed; the same accounts and records, byte for byte, as an export run
  after it; exactly the directory's users, and a second full sync with nothing to change.

Everything sends to 127.0.0.1 only. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from facito_admin.bootstrap import build_runtime
from facito_admin.config import load_settings

# bench/ is not a package: its fake Graph (directory_sync.py) and process helpers are scripts.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from directory_sync import CLIENT_ID as GRAPH_CLIENT_ID
from directory_sync import TENANT, FakeServer, create_organisation
from topology import (
    BIN,
    ROOT,
    Client,
    SmokeFailed,
    Topology,
    check,
    topology,
    wait_until,
)

PROBLEM_JSON = "application/problem+json"
SERVER_ERROR = re.compile(r"\b(5\d\d) Server Error")
USERS = 16
SEED_ACCOUNTS = 300
# Sizes at which each job of the kill scenario runs for several seconds on this kind of machine.
KILL_RECORDS = 40_000
KILL_USERS = 20_000
CHANGE_COUNTS = ("created", "updated", "disabled", "enabled", "deleted", "restored")


@dataclass(frozen=True)
class Operation:
    name: str
    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class LoadResult:
    operations: list[Operation]
    server_errors: Counter[str]
    other_failures: Counter[str]

    @property
    def total(self) -> Operation:
        (row,) = [op for op in self.operations if op.name == "Aggregated"]
        return row


def organisation_path(client: Client, api: str) -> str:
    return f"/v1/organisations/{client.call('GET', f'{api}/v1/me').json()['organisation_id']}"


def seed(parts: Topology, count: int) -> tuple[str, str]:
    """``count`` accounts and a SCIM token; the organisation's id and the SCIM token."""
    client = Client(parts.token)
    org = organisation_path(client, parts.api[0])

    def create(n: int) -> int:
        return client.call(
            "POST",
            f"{parts.api[n % 2]}{org}/accounts",
            json={"user_principal_name": f"seed-{n:05d}@demo.example", "display_name": f"Seed {n}"},
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = Counter(pool.map(create, range(count)))
    check(statuses == Counter({201: count}), f"{count} accounts seeded")
    scim = client.call("POST", f"{parts.api[0]}{org}/scim-tokens", json={"description": "load"})
    return org.rsplit("/", 1)[1], scim.json()["token"]


def run_locust(
    parts: Topology, org: str, scim_token: str, *, seconds: int, out: Path
) -> subprocess.Popen[bytes]:
    env = parts.env | {
        "FACITO_LOAD_HOSTS": ",".join(parts.api),
        "FACITO_LOAD_ORG": org,
        "FACITO_LOAD_TOKEN": parts.token,
        "FACITO_LOAD_SCIM_TOKEN": scim_token,
    }
    command = [str(BIN / "locust"), "-f", str(ROOT / "ops" / "locustfile.py"), "--headless"]
    command += ["-u", str(USERS), "-r", str(USERS), "-t", f"{seconds}s", "--only-summary"]
    command += ["--csv", str(out), "--host", parts.api[0], "--exit-code-on-error", "0"]
    with (out.parent / f"{out.name}.log").open("ab") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def read_result(out: Path) -> LoadResult:
    with (out.parent / f"{out.name}_stats.csv").open() as stats:
        operations = [
            Operation(
                row["Name"],
                int(row["Request Count"]),
                int(row["Failure Count"]),
                float(row["Requests/s"]),
                float(row["50%"] or 0),
                float(row["99%"] or 0),
            )
            for row in csv.DictReader(stats)
        ]
    server_errors: Counter[str] = Counter()
    other: Counter[str] = Counter()
    with (out.parent / f"{out.name}_failures.csv").open() as failures:
        for row in csv.DictReader(failures):
            found = SERVER_ERROR.search(row["Error"])
            bucket = server_errors if found else other
            bucket[found.group(1) if found else row["Error"][:120]] += int(row["Occurrences"])
    return LoadResult(operations, server_errors, other)


def report(result: LoadResult) -> None:
    print(
        f"  {'operation':<28} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'fail':>6}"
    )
    for op in result.operations:
        print(
            f"  {op.name:<28} {op.requests:>9} {op.per_second:>8.1f} {op.p50_ms:>8.0f}"
            f" {op.p99_ms:>8.0f} {op.failures:>6}"
        )


def scenario_load(parts: Topology, org: str, scim_token: str, folder: Path) -> None:
    out = folder / "load"
    locust = run_locust(parts, org, scim_token, seconds=60, out=out)
    locust.wait(timeout=120)
    result = read_result(out)
    report(result)
    check(result.total.requests > 0, f"{result.total.per_second:.0f} requests/s over 60 s")
    check(not result.server_errors, f"no 5xx answer (got {dict(result.server_errors)})")
    check(not result.other_failures, f"no other failure (got {dict(result.other_failures)})")


def scenario_outage(parts: Topology, org: str, scim_token: str, folder: Path) -> None:
    out = folder / "outage"
    locust = run_locust(parts, org, scim_token, seconds=45, out=out)
    client = Client(parts.token)
    accounts = f"{parts.api[1]}/v1/organisations/{org}/accounts?limit=5"
    time.sleep(12)
    parts.postgres.stop()
    down_at = time.monotonic()
    answers: list[tuple[int, str]] = []
    while time.monotonic() - down_at < 12:
        try:
            answer = client.call("GET", accounts)
            answers.append((answer.status_code, answer.headers.get("Content-Type", "")))
        except requests.RequestException as error:
            answers.append((0, type(error).__name__))
        time.sleep(0.2)
    parts.postgres.start()
    print(f"  PostgreSQL was stopped for {time.monotonic() - down_at:.0f} s during the load")
    check(
        answers and all(a == (503, PROBLEM_JSON) for a in answers[3:]),
        f"while it was down the API answered 503 problem+json ({len(answers)} probes: "
        f"{dict(Counter(status for status, _ in answers))})",
    )
    locust.wait(timeout=120)
    result = read_result(out)
    report(result)
    check(
        set(result.server_errors) <= {"503"},
        f"the only 5xx during the load was 503 (got {dict(result.server_errors)})",
    )
    recovered = [
        client.call("GET", f"{api}/v1/organisations/{org}/accounts?limit=5").status_code
        for api in parts.api * 10
    ]
    check(set(recovered) == {200}, "both APIs answer again without a restart")
    wait_until(lambda: _waiting(client, parts, org) == 0, "every audit event is sealed", 60)
    accounts_in_db = int(
        parts.sql(f"SELECT count(*) FROM accounts WHERE organisation_id = '{org}'")
    )
    created_events = int(
        parts.sql(
            "SELECT count(*) FROM audit_events WHERE action = 'org:account:create'"
            f" AND organisation_id = '{org}'"
        )
    )
    check(
        accounts_in_db == created_events,
        f"every account has its creation event ({accounts_in_db} accounts, "
        f"{created_events} events): nothing half-applied",
    )
    verified = client.call("GET", f"{parts.api[0]}/v1/organisations/{org}/audit-events/verify")
    check(verified.json()["valid"], f"the audit chain verifies ({verified.json()['checked']})")


def _waiting(client: Client, parts: Topology, org: str) -> int:
    report = client.call("GET", f"{parts.api[0]}/v1/organisations/{org}/audit-events/verify")
    return int(report.json()["waiting"]["count"])


def scenario_race(parts: Topology, org: str, _scim_token: str, _folder: Path) -> None:
    client = Client(parts.token)
    base = f"/v1/organisations/{org}/accounts"
    created = client.call(
        "POST",
        f"{parts.api[0]}{base}",
        json={"user_principal_name": "race@demo.example", "display_name": "Race"},
    )
    account, etag = created.json()["id"], created.headers["ETag"]
    start = threading.Barrier(50)

    def patch(n: int) -> tuple[int, str]:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {parts.token}"
        start.wait()
        answer = session.patch(
            f"{parts.api[n % 2]}{base}/{account}",
            json={"job_title": f"Winner {n}"},
            headers={"If-Match": etag},
            timeout=60,
        )
        return answer.status_code, f"Winner {n}"

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(patch, range(50)))
    statuses = Counter(status for status, _ in answers)
    check(statuses == Counter({200: 1, 412: 49}), f"50 PATCHes, one ETag: {dict(statuses)}")
    (winner,) = [title for status, title in answers if status == 200]
    stored = client.call("GET", f"{parts.api[1]}{base}/{account}").json()["job_title"]
    check(stored == winner, f"the winner's value is stored ({winner!r})")
    updates = int(
        parts.sql(
            "SELECT count(*) FROM audit_events WHERE action = 'org:account:update'"
            f" AND target_id = '{account}'"
        )
        or 0
    ) + int(
        parts.sql(
            "SELECT count(*) FROM audit_pending_events WHERE action = 'org:account:update'"
            f" AND target_id = '{account}'"
        )
        or 0
    )
    check(updates == 1, "exactly one update event: no lost update")


def _job(client: Client, url: str) -> dict[str, Any]:
    return dict(client.call("GET", url).json())


def kill_during(parts: Topology, client: Client, job_url: str, what: str) -> dict[str, Any]:
    """SIGKILL every worker while the job is under way, start them again, follow it to its end."""
    running = wait_until(
        lambda: (job := _job(client, job_url))["state"] != "queued" and job,
        f"the {what} starts",
        every=0.02,
    )
    check(running["state"] == "running", f"the {what} is running when the workers are killed")
    parts.kill_workers()
    total = running["progress_total"]
    print(f"  workers SIGKILLed during the {what} ({running['progress_done']} of {total} done)")
    parts.restart_workers()
    job = wait_until(
        lambda: (job := _job(client, job_url))["finished_at"] is not None and job,
        f"the {what} finishes after the restart",
        timeout=240,
    )
    check(
        job["state"] == "succeeded" and job["attempts"] >= 2,
        f"the {what} succeeded on attempt {job['attempts']}, resumed by a restarted worker",
    )
    return job


def ingest_records(client: Client, base: str, org: str, *, count: int) -> tuple[int, int]:
    """``count`` linked data records over the seeded accounts, every other one from 2010 (long
    past its retention); the numbers expired and kept."""
    accounts = [a["id"] for a in client.call("GET", f"{base}/accounts?limit=200").json()["items"]]

    def batch(start: int) -> int:
        records = [
            {
                "account_id": accounts[n % len(accounts)],
                "product": "website-hosting",
                "category": "content.files",
                "source_system": "load",
                "external_key": f"kill-{n}",
                "storage": {"subprocessor": "transip", "region": "transip-nl-amsterdam"},
                "content": {"title": f"File {n}"},
                "occurred_at": "2010-01-01T00:00:00Z" if n % 2 else "2026-11-01T00:00:00Z",
            }
            for n in range(start, min(start + 1000, count))
        ]
        answer = client.call("POST", f"{base}/data-records/batch", json={"records": records})
        return answer.status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = Counter(pool.map(batch, range(0, count, 1000)))
    check(set(statuses) <= {200, 201}, f"{count} data records ingested ({dict(statuses)})")
    expired = count // 2
    return expired, count - expired


def export_members(client: Client, base: str, job: dict[str, Any]) -> dict[str, str]:
    """SHA-256 of the export's accounts and data records members."""
    export_id = job["params"]["export_id"]
    download = client.call("GET", f"{base}/exports/{export_id}/download")
    check(download.status_code == 200, f"export {export_id} downloads")
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        return {
            name: hashlib.sha256(archive.read(name)).hexdigest()
            for name in ("accounts.jsonl", "data-records.jsonl")
        }


def sync_organisation(parts: Topology) -> tuple[str, str]:
    """An organisation federated with the fake Graph's tenant, and an admin token for it."""
    settings = load_settings(
        {
            "env": "development",
            "database_url": parts.env["FACITO_DATABASE_URL"],
            "instance_path": Path(parts.env["FACITO_INSTANCE_PATH"]),
            "huey_url": parts.env["FACITO_HUEY_URL"],
            "authority_host": parts.env["FACITO_AUTHORITY_HOST"],
            "client_id": parts.env["FACITO_CLIENT_ID"],
            "log_level": "WARNING",
        }
    )
    runtime = build_runtime(settings)
    try:
        organisation_id, _ = create_organisation(runtime, slug="synced", tenant=TENANT)
    finally:
        runtime.dispose()
    return str(organisation_id), parts.dev_token("--org", "synced")


def scenario_kill(parts: Topology, org: str, _scim_token: str, folder: Path) -> None:
    client = Client(parts.token)
    api = parts.api[0]
    base = f"{api}/v1/organisations/{org}"

    expired, kept = ingest_records(client, base, org, count=KILL_RECORDS)

    # A full export of the organisation (records included), against an undisturbed one.
    killed = client.call("POST", f"{base}/exports")
    killed_job = kill_during(parts, client, f"{base}/jobs/{killed.json()['id']}", "export")
    undisturbed = client.call("POST", f"{base}/exports").json()
    wait_until(
        lambda: _job(client, f"{base}/jobs/{undisturbed['id']}")["state"] == "succeeded",
        "an undisturbed export ends",
    )
    check(
        export_members(client, base, killed_job) == export_members(client, base, undisturbed),
        "its accounts and data records are those of an undisturbed export, byte for byte",
    )

    # A retention run over those records, of which half expired long ago.
    started = client.call("POST", f"{base}/retention/runs", json={})
    kill_during(parts, client, f"{base}/jobs/{started.json()['id']}", "retention run")
    remaining = int(parts.sql(f"SELECT count(*) FROM data_records WHERE organisation_id = '{org}'"))
    # The hourly retention scan may have started a run of its own meanwhile: together, the
    # runs' certified counts must be the expired records, each removed once.
    removed = int(
        parts.sql(
            "SELECT coalesce(sum((result->>'removed_total')::int), 0) FROM jobs"
            f" WHERE kind = 'retention-run' AND organisation_id = '{org}'"
        )
    )
    check(
        removed == expired and remaining == kept,
        f"the expired records were removed once ({removed} of {expired}), as an undisturbed "
        f"run would, and the {kept} others kept ({remaining})",
    )

    # A full directory sync of the fake Graph's users into an organisation of its own.
    bench_org, bench_token = sync_organisation(parts)
    sync_client = Client(bench_token)
    sync_base = f"{api}/v1/organisations/{bench_org}"
    started = sync_client.call("POST", f"{sync_base}/directory-syncs", json={"mode": "full"})
    kill_during(parts, sync_client, f"{sync_base}/jobs/{started.json()['id']}", "directory sync")
    names = parts.sql(
        "SELECT count(*), count(DISTINCT user_principal_name) FROM accounts"
        f" WHERE organisation_id = '{bench_org}' AND status = 'active'"
    )
    check(
        names == f"{KILL_USERS}|{KILL_USERS}",
        f"the organisation has exactly the directory's {KILL_USERS} users",
    )
    again = sync_client.call("POST", f"{sync_base}/directory-syncs", json={"mode": "full"})
    second = wait_until(
        lambda: (
            (job := _job(sync_client, f"{sync_base}/jobs/{again.json()['id']}"))["state"]
            == "succeeded"
            and job
        ),
        "an undisturbed second full sync ends",
    )
    changed = {k: v for k, v in second["result"].items() if k in CHANGE_COUNTS and v}
    check(not changed, f"an undisturbed full sync then finds nothing to change ({changed})")


SCENARIOS = {
    "load": scenario_load,
    "outage": scenario_outage,
    "race": scenario_race,
    "kill": scenario_kill,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--keep", action="store_true", help="keep the folder and its logs")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="facito-load-"))
    print(f"load in {folder}")
    graph = FakeServer(KILL_USERS, 0)
    threading.Thread(target=graph.serve_forever, daemon=True).start()
    ca_file = folder / "graph-ca.pem"
    graph.ca.cert_pem.write_to_path(str(ca_file))
    extra_env = {
        # The fake Graph and Entra token endpoint of bench/directory_sync.py, over local HTTPS.
        "FACITO_GRAPH_BASE_URL": graph.base_url,
        "FACITO_AUTHORITY_HOST": graph.base_url,
        "FACITO_CA_BUNDLE": str(ca_file),
        "FACITO_CLIENT_ID": GRAPH_CLIENT_ID,
        "FACITO_CLIENT_SECRET": "load-secret",
        # A killed worker's job is taken back within seconds, not minutes.
        "FACITO_JOB_HEARTBEAT_SECONDS": "2",
        "FACITO_JOB_STALE_SECONDS": "10",
    }
    try:
        with topology(folder, rate_limit="1000000/minute", extra_env=extra_env) as parts:
            org, scim_token = seed(parts, SEED_ACCOUNTS)
            for name in args.scenario or ["race", "kill", "load", "outage"]:
                print(f"== {name}")
                SCENARIOS[name](parts, org, scim_token, folder)
    except SmokeFailed as failure:
        print(f"FAILED: {failure}; logs in {folder}", file=sys.stderr)
        args.keep = True
        return 1
    else:
        print("every scenario passed; everything stopped")
        return 0
    finally:
        graph.shutdown()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
