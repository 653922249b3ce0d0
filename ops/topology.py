"""`make topology`: the production shape on this machine, a smoke test across it, then all stopped.

It starts PostgreSQL in a data folder of its own (initdb, as the `postgres` user when run as
root), Redis, two API processes (gunicorn, two workers each, on two ports) and two job workers
(`facito-admin worker`), all sharing that PostgreSQL (as the non-owner role `facito_app`, with
row-level security) and that Redis (the job queue and the rate limit counters). Then it checks
what only a multi-process deployment can get wrong:

- an account created through one API is read, with the same ETag, through the other;
- a retention run started through one API is run by a worker and followed through the other;
- a webhook reaches a receiver on 127.0.0.1, signed with the endpoint's secret;
- one worker holds the periodic schedule, and the other takes it over when the first stops;
- the rate limit is one budget across both APIs (counted in Redis), not one per process;
- the organisation's audit chain verifies.

Everything it started is stopped and its folder removed, whatever happened (`--keep` keeps the
folder with the processes' logs). The processes run in development mode (development tokens,
a webhook receiver on 127.0.0.1); everything else is as docs/deployment.md describes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from standardwebhooks import Webhook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from loadtest import free_port, gunicorn, stop_group  # noqa: E402 - bench/ is not a package

PG_BIN = Path(
    subprocess.run(
        ["pg_config", "--bindir"], capture_output=True, text=True, check=True
    ).stdout.strip()
)
# The budget of one client across both API processes during the smoke test.
RATE_LIMIT = 60
BIN = Path(sys.executable).parent
PSQL = ["psql", "-v", "ON_ERROR_STOP=1", "-q", "-At", "-h", "127.0.0.1", "-U", "postgres"]
# Nothing on disk: the queue and the counters are rebuilt from the database.
REDIS = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


class SmokeFailed(AssertionError):
    """A check of the smoke test did not hold."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeFailed(what)
    print(f"  ok  {what}")


def wait_until(
    condition: Callable[[], Any], what: str, timeout: float = 60, *, every: float = 0.2
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise SmokeFailed(f"{what}: not within {timeout:.0f} s")


# -- the parts -------------------------------------------------------------------------------


@dataclass
class Postgres:
    """A PostgreSQL server of its own, in a data folder of its own."""

    folder: Path
    port: int
    as_postgres: list[str]

    def _pg_ctl(self, *args: str) -> None:
        command = [*self.as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data")]
        subprocess.run([*command, *args], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c timezone=UTC"
        self._pg_ctl("-w", "-l", str(self.folder / "postgres.log"), "-o", options, "start")

    def stop(self) -> None:
        """A fast shutdown: open transactions are rolled back, connections dropped."""
        self._pg_ctl("-w", "-m", "fast", "stop")


@contextlib.contextmanager
def postgres(folder: Path) -> Iterator[Postgres]:
    """initdb in ``folder`` and serve it on a free port until the block ends."""
    folder.mkdir(parents=True)
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        owner = pwd.getpwnam("postgres")
        folder.parent.chmod(0o755)  # mkdtemp's 0700 would keep the postgres user out
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    initdb = [*as_postgres, str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-U", "postgres"]
    subprocess.run([*initdb, "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
    server = Postgres(folder, free_port(), as_postgres)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()


def psql(port: int, *commands: str, database: str = "postgres") -> str:
    """Run ``commands`` as the superuser; the last one's output, unaligned."""
    output = ""
    for command in commands:
        output = subprocess.run(
            [*PSQL, "-p", str(port), "-d", database, "-c", command],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    return output


def lease_holder(port: int) -> int | None:
    """The pid of the worker holding the periodic schedule's lease (`host:pid:nonce`), if any."""
    holder = psql(
        port,
        "SELECT holder FROM schedule_leases WHERE name = 'periodic' AND expires_at > now()",
        database="facito",
    )
    return int(holder.split(":")[1]) if holder else None


@contextlib.contextmanager
def redis(folder: Path) -> Iterator[int]:
    port = free_port()
    with (folder / "redis.log").open("ab") as log:
        process = subprocess.Popen(
            [*REDIS, "--port", str(port), "--dir", str(folder)],
            stdout=log,
            stderr=log,
        )
    try:
        wait_until(
            lambda: (
                subprocess.run(
                    ["redis-cli", "-p", str(port), "ping"],
                    check=False,
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                == "PONG"
            ),
            "redis answers",
            timeout=20,
        )
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`facito-admin worker`, once it printed its ready line."""
    ready = log.read_text().count("worker ready") if log.exists() else 0
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(BIN / "facito-admin"), "worker", "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: log.read_text().count("worker ready") > ready, f"{log.name} is ready", 60
        )
    except SmokeFailed:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (running jobs finish), SIGKILL after 30 s."""
    stop_group(process, timeout=30)


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that keeps what it gets."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Quiet."""


@contextlib.contextmanager
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# -- the smoke test --------------------------------------------------------------------------


class Client:
    """One client (one token) calling either API process; counts its requests."""

    def __init__(self, token: str) -> None:
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.requests = 0

    def call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.requests += 1
        return self.http.request(method, url, timeout=30, **kwargs)


def smoke(
    api: list[str],
    client: Client,
    hooks: Receiver,
    workers: list[subprocess.Popen[bytes]],
    schedule_holder: Callable[[], int | None],
) -> None:
    first, second = api
    me = client.call("GET", f"{first}/v1/me").json()
    org = f"/v1/organisations/{me['organisation_id']}"

    endpoint = client.call(
        "POST",
        f"{second}{org}/webhook-endpoints",
        json={"url": hooks.url, "event_types": ["account.created"]},
    )
    check(endpoint.status_code == 201, "a webhook endpoint is created through API 2")

    created = client.call(
        "POST",
        f"{first}{org}/accounts",
        json={"user_principal_name": "topology@demo.example", "display_name": "Topology Test"},
    )
    check(created.status_code == 201, "an account is created through API 1")
    account = created.json()
    read = client.call("GET", f"{second}{org}/accounts/{account['id']}")
    check(
        read.status_code == 200
        and read.json() == account
        and read.headers["ETag"] == created.headers["ETag"],
        "the account reads the same, with the same ETag, through API 2",
    )

    started = client.call("POST", f"{first}{org}/retention/runs", json={})
    check(started.status_code == 202, "a retention run is started through API 1")
    job_url = f"{second}{org}/jobs/{started.json()['id']}"
    job = wait_until(
        lambda: (
            (body := client.call("GET", job_url).json())["state"] in ("succeeded", "failed")
            and body
        ),
        "the retention run ends",
    )
    check(job["state"] == "succeeded", "a worker ran it; API 2 reports it succeeded")

    headers, body = wait_until(lambda: hooks.received and hooks.received[0], "a webhook arrives")
    payload = Webhook(endpoint.json()["secret"]).verify(body, headers)
    check(
        payload["type"] == "account.created" and payload["data"]["account_id"] == account["id"],
        "account.created reached the receiver, signed with the endpoint's secret",
    )

    verified = client.call("GET", f"{second}{org}/audit-events/verify").json()
    check(verified["valid"], f"the audit chain verifies ({verified['checked']} events)")

    answers = []
    while client.requests < 2 * RATE_LIMIT + 5:
        answers.append(client.call("GET", f"{api[client.requests % 2]}/v1/me").status_code)
        if answers[-1] == 429:
            break
    check(
        answers[-1] == 429 and client.requests == RATE_LIMIT + 1,
        f"the rate limit is one budget across both APIs: request {client.requests} "
        f"of {RATE_LIMIT}/minute is refused",
    )

    pids = {each.pid: n for n, each in enumerate(workers, start=1)}
    holder = wait_until(lambda: schedule_holder() in pids and schedule_holder(), "a holder")
    check(True, f"worker {pids[holder]} of 2 holds the periodic schedule")
    stop(workers[pids[holder] - 1])
    successor = wait_until(
        lambda: (now := schedule_holder()) in pids and now != holder and now,
        "the other worker takes the schedule over",
        timeout=90,
    )
    check(
        True, f"worker {pids[successor]} took the schedule over when worker {pids[holder]} stopped"
    )


def ports_of(urls: list[str]) -> list[int]:
    return [int(url.rsplit(":", 1)[1]) for url in urls]


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# -- putting it together ---------------------------------------------------------------------


@dataclass
class Topology:
    """The running parts: where they listen, and what a client needs to call them."""

    folder: Path
    postgres: Postgres
    redis_port: int
    api: list[str]
    workers: list[subprocess.Popen[bytes]]
    hooks: Receiver
    env: dict[str, str]
    token: str

    def lease_holder(self) -> int | None:
        return lease_holder(self.postgres.port)

    def kill_workers(self) -> None:
        """SIGKILL every worker (no chance to finish or hand anything over)."""
        for each in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(each.pid, signal.SIGKILL)
            each.wait()

    def restart_workers(self) -> None:
        """Start the workers again, in place of the ones that ended."""
        self.workers[:] = [
            start_worker(self.env, self.folder / f"worker-{n}.log")
            for n in range(1, len(self.workers) + 1)
        ]

    def sql(self, query: str) -> str:
        """A query's result as the superuser, in the API's database."""
        return psql(self.postgres.port, query, database="facito")

    def ports(self) -> list[int]:
        return [self.postgres.port, self.redis_port, *ports_of(self.api)]

    def dev_token(self, *args: str) -> str:
        """`facito-admin dev-token ARGS` against this topology's keys and database."""
        return cli(self.env, "dev-token", *args).strip()


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(BIN / "facito-admin"), *args], env=env, check=True, capture_output=True, text=True
    ).stdout


@contextlib.contextmanager
def topology(
    folder: Path, *, rate_limit: str, api_workers: int = 2, extra_env: dict[str, str] | None = None
) -> Iterator[Topology]:
    """Start every part in ``folder`` (migrated, with the demo organisation); stop them after.

    ``extra_env`` reaches every process (the Graph of a directory sync, the jobs' timing).
    """
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(postgres(folder / "postgres"))
        pg_port = server.port
        psql(
            pg_port,
            "CREATE ROLE facito_owner LOGIN",
            "CREATE ROLE facito_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
            "CREATE DATABASE facito OWNER facito_owner",
        )
        redis_port = stack.enter_context(redis(folder))
        database = f"postgresql+psycopg://%s@127.0.0.1:{pg_port}/facito"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "FACITO_ENV": "development",
            "FACITO_LOG_JSON": "true",
            "FACITO_INSTANCE_PATH": str(folder / "instance"),
            "FACITO_DATABASE_URL": database % "facito_app",
            "FACITO_HUEY_URL": f"redis://127.0.0.1:{redis_port}/0",
            "FACITO_RATE_LIMIT_STORAGE_URL": f"redis://127.0.0.1:{redis_port}/1",
            "FACITO_RATE_LIMIT": rate_limit,
        } | (extra_env or {})
        owner = {
            "FACITO_MIGRATION_DATABASE_URL": database % "facito_owner",
            "FACITO_DATABASE_APP_ROLE": "facito_app",
        }
        cli(env | owner, "db", "upgrade")
        cli(env, "demo")
        hooks = stack.enter_context(receiver())
        api = [
            stack.enter_context(
                gunicorn(
                    "wsgi:app", env, workers=api_workers, log=folder / f"api-{n}.log", cwd=ROOT
                )
            )
            for n in (1, 2)
        ]
        workers: list[subprocess.Popen[bytes]] = []
        # Stops whichever workers run when the block ends (a scenario may restart them).
        stack.callback(lambda: [stop(each) for each in workers])
        workers += [start_worker(env, folder / f"worker-{n}.log") for n in (1, 2)]
        print(f"started: PostgreSQL :{pg_port}, Redis :{redis_port}, APIs {api}, 2 workers")
        token = cli(env, "dev-token", "--org", "demo").strip()
        yield Topology(folder, server, redis_port, api, workers, hooks, env, token)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the folder and its logs")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="facito-topology-"))
    print(f"topology in {folder}")
    try:
        with topology(folder, rate_limit=f"{RATE_LIMIT}/minute") as parts:
            smoke(parts.api, Client(parts.token), parts.hooks, parts.workers, parts.lease_holder)
        listening = [port for port in parts.ports() if answers(port)]
        check(not listening, "everything it started is stopped (no port still listening)")
    except SmokeFailed as failure:
        print(f"FAILED: {failure}; logs in {folder}", file=sys.stderr)
        args.keep = True
        return 1
    except subprocess.CalledProcessError as failure:
        print(f"FAILED: {' '.join(failure.cmd)}:\n{failure.stderr}", file=sys.stderr)
        return 1
    else:
        print("topology smoke test passed; everything stopped")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
