"""The account list under load: our API against a bare Flask + SQL endpoint, same rows, same run.

What it does, for one database (SQLite by default, PostgreSQL with --database-url):
1. creates the data: 100 organisations x 1,000 accounts plus one of 100,000, each organisation
   with an active federation (so real tokens work), bulk-inserted with executemany (not through
   the API, so no audit events); ANALYZE afterwards on PostgreSQL;
2. serves our app (`wsgi:app`, production-like settings: JSON access log at INFO, Prometheus in
   multiprocess mode, the rate limiter on with a budget too large to refuse) and bench/bare_app.py
   each under gunicorn with the same number of sync workers;
3. checks both answer the same first page of 50 accounts of the big organisation (and the same
   deep page): the same keys in the same order and equal values in every item, the same next
   page (page_difference; a field the API gains that the bare app does not serve alike stops
   the run), then drives each with wrk on that first page (same duration, threads and
   connections), in rounds that alternate which goes first, and prints requests/s and the
   ratio ours / bare: the median of the rounds' ratios, each of two runs made back to back, so
   that other load on the machine weighs on both sides alike (goal >= 0.85, issue 13);
4. the keyset depth check on our app: the page after 99,000 accounts against the first page
   (wrk on each URL, rounds as above); cost ratio = first-page requests/s / deep-page
   requests/s (goal <= 1.30).

Our app gets a real bearer token signed by the development issuer (FACITO_DEV_ISSUER_ENABLED,
same validation path as Entra tokens), one token for the whole run, as a client would reuse it.
On PostgreSQL the database is recreated with the roles of .ci/run; migrations and loading run
as the owner, both apps connect as the non-owner app role, so row-level security is in force
for both (the bare app sets app.organisation_id per transaction, as ours does). What the bare
app does and does not do: bench/bare_app.py.

Not a test and never gating CI: figures depend on the machine and on what else runs on it, so
it prints the load average beside them; compare ratios, not absolute figures.

The figures need wrk (`apt-get install -y wrk`, `brew install wrk`); without it, or with
--driver python, a small Python driver makes the load (bench/loadtest.py: slower than wrk and
on the same CPUs, so its figures are for smoke runs only; `make bench-smoke` uses it when wrk
is missing). Run:
    python bench/list_accounts.py                                  # SQLite in a temp folder
    python bench/list_accounts.py --database-url \
        postgresql+psycopg://facito_app@127.0.0.1:5432/facito_bench  # recreates facito_bench
    python bench/list_accounts.py --profile 2000   # cProfile of the request path, in-process
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.loading import Target, account_row, bench_target, chunks  # noqa: E402
from bench.loadtest import (  # noqa: E402
    DRIVERS,
    Load,
    WrkResult,
    alternate,
    choose_driver,
    describe,
    fetch_json,
    figures,
    gunicorn,
    load_average,
    median_rps,
    paired,
)

from facito_admin.accounts.models import Account, AccountStatus  # noqa: E402
from facito_admin.auth.dev_issuer import load_or_create_key, mint_token  # noqa: E402
from facito_admin.common.pagination import decode_cursor, encode_cursor  # noqa: E402
from facito_admin.config import DEV_CLIENT_ID  # noqa: E402
from facito_admin.db.base import new_id, utcnow  # noqa: E402
from facito_admin.db.migrations import upgrade  # noqa: E402
from facito_admin.tenants.models import (  # noqa: E402
    Federation,
    FederationStatus,
    Organisation,
    OrganisationStatus,
)

AUTHORITY = "https://login.microsoftonline.com"
DEPARTMENTS = ("Sales", "Finance", "IT", "HR", "Support", "Legal", "R&D", "Operations")
BATCH = 10_000
TARGET_RATIO = 0.85
TARGET_DEPTH = 1.30


# -- the database -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    big_organisation: uuid.UUID
    big_tenant: str
    deep_cursor_ours: str
    deep_cursor_bare: str
    accounts: int


def _account_rows(organisation_id: uuid.UUID, count: int, slug: str) -> Iterator[dict[str, Any]]:
    now = utcnow()
    for i in range(count):
        upn = f"user{i:06d}@{slug}.example"
        # 2 % disabled, 0.5 % deleted (the list leaves those out), the rest active.
        status = AccountStatus.active
        if i % 50 == 7:
            status = AccountStatus.disabled
        elif i % 200 == 13:
            status = AccountStatus.deleted
        yield account_row(
            organisation_id,
            i,
            created=now - timedelta(seconds=count - i),
            display_name=f"Employee {i:06d} of {slug}",
            given_name="Employee",
            family_name=f"{i:06d}",
            email=upn,
            upn=upn,
            status=status,
            entra_oid=str(uuid.uuid4()) if i % 2 == 0 else None,
        )


def load(target: Target, *, organisations: int, per_organisation: int, big: int) -> Dataset:
    """Organisations with active federations and their accounts, with executemany."""
    engine = create_engine(target.owner_url)
    now = utcnow()
    plan = [(f"bench-{n:03d}", per_organisation) for n in range(organisations)]
    plan.append(("bench-big", big))
    ids = {slug: new_id() for slug, _ in plan}
    tenants = {slug: str(uuid.uuid4()) for slug, _ in plan}
    with engine.begin() as connection:
        if target.is_postgresql:
            # The owner is subject to row-level security too (FORCE): load across tenants.
            connection.execute(text("SELECT set_config('app.cross_organisation', 'on', true)"))
        connection.execute(
            Organisation.__table__.insert(),
            [
                {
                    "id": ids[slug],
                    "slug": slug,
                    "name": f"{slug} B.V.",
                    "status": OrganisationStatus.active,
                    "primary_region": "transip-nl-amsterdam",
                    "backup_region": "azure-de",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for slug, _ in plan
            ],
        )
        connection.execute(
            Federation.__table__.insert(),
            [
                {
                    "id": new_id(),
                    "organisation_id": ids[slug],
                    "tenant_id": tenants[slug],
                    "status": FederationStatus.active,
                    "consented_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for slug, _ in plan
            ],
        )
        table = Account.__table__
        for slug, count in plan:
            for batch in chunks(_account_rows(ids[slug], count, slug), BATCH):
                connection.execute(table.insert(), batch)
    if target.is_postgresql:
        # Planner statistics, as autovacuum would gather them. (SQLite picks the primary key
        # index for these queries with or without its own ANALYZE.)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    big_id = ids["bench-big"]
    depth = min(99_000, big - 100)
    with engine.begin() as connection:
        if target.is_postgresql:
            connection.execute(text("SELECT set_config('app.cross_organisation', 'on', true)"))
        after = connection.scalar(
            select(table.c.id)
            .where(table.c.organisation_id == big_id, table.c.status != AccountStatus.deleted)
            .order_by(table.c.id)
            .offset(depth - 1)
            .limit(1)
        )
    engine.dispose()
    total = organisations * per_organisation + big
    return Dataset(big_id, tenants["bench-big"], encode_cursor([after]), str(after), total)


# -- in-process profile -----------------------------------------------------------------------


def profile(setup: Setup, n: int) -> None:
    """cProfile of ``n`` list requests through the Flask test client, same settings as served.

    The access log goes to a file in the temp folder, as it does under gunicorn here.
    """
    import cProfile
    import pstats

    os.environ.update(setup.ours_env)
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # one process: the default registry
    from facito_admin.app import create_app

    with (setup.workdir / "profile.log").open("w") as log, contextlib.redirect_stderr(log):
        app = create_app()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {setup.token}"}
        path = f"/v1/organisations/{setup.data.big_organisation}/accounts"
        for _ in range(200):
            assert client.get(path, headers=headers).status_code == 200
        plain = time.perf_counter()
        for _ in range(n):
            client.get(path, headers=headers)
        unprofiled = (time.perf_counter() - plain) / n * 1e6
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            client.get(path, headers=headers)
        profiler.disable()
    print(f"in-process (Flask test client): {unprofiled:.0f} us/request over {n} requests")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


# -- main -------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--database-url", help="PostgreSQL URL of the app role (recreated!)")
    parser.add_argument("--owner-role", default="facito_owner")
    parser.add_argument("--admin-user", default="postgres", help="creates the database")
    parser.add_argument("--organisations", type=int, default=100)
    parser.add_argument("--per-organisation", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--seconds", type=float, default=8, help="each measured run")
    parser.add_argument(
        "--warm-up", type=float, default=2, help="seconds, each side, first (0: none)"
    )
    parser.add_argument(
        "--driver",
        choices=DRIVERS,
        default="auto",
        help="wrk (the figures), python (smoke runs without wrk), auto: wrk when installed",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=int, metavar="N", help="profile N requests, no wrk")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    return parser.parse_args()


@dataclass(frozen=True)
class Setup:
    target: Target
    data: Dataset
    workdir: Path
    token: str
    ours_env: dict[str, str]
    bare_env: dict[str, str]


def set_up(args: argparse.Namespace, workdir: Path) -> Setup:
    """The database with its data, a token of the big organisation, both apps' environments."""
    target = bench_target(
        args.database_url, workdir, owner_role=args.owner_role, admin_user=args.admin_user
    )
    print(f"== {target.label}; {os.cpu_count()} CPUs; load average {load_average()}")
    started = time.perf_counter()
    upgrade(target.owner_url, app_role=target.app_role)
    data = load(
        target,
        organisations=args.organisations,
        per_organisation=args.per_organisation,
        big=args.big,
    )
    print(
        f"data: {args.organisations} organisations x {args.per_organisation} accounts + one of "
        f"{args.big} ({data.accounts} accounts), migrated and loaded"
        f"{' and analysed' if target.is_postgresql else ''} in "
        f"{time.perf_counter() - started:.1f} s"
    )
    instance = workdir / "instance"
    token = mint_token(
        load_or_create_key(instance),
        authority_host=AUTHORITY,
        audience=DEV_CLIENT_ID,
        tenant_id=data.big_tenant,
        object_id=str(uuid.uuid4()),
        roles=["Organisation.Reader"],
        lifetime_seconds=4 * 3600,
    )
    metrics_dir = workdir / "metrics"
    metrics_dir.mkdir()
    base_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    ours_env = {
        **base_env,
        "FACITO_ENV": "development",
        "FACITO_DEV_ISSUER_ENABLED": "true",
        "FACITO_DATABASE_URL": target.app_url,
        "FACITO_INSTANCE_PATH": str(instance),
        "FACITO_AUTHORITY_HOST": AUTHORITY,
        "FACITO_CLIENT_ID": DEV_CLIENT_ID,
        "FACITO_LOG_LEVEL": "INFO",
        # The limiter runs and counts as always; the budget is merely out of reach.
        "FACITO_RATE_LIMIT": "1000000000/minute",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    bare_env = {**base_env, "BENCH_DATABASE_URL": target.app_url}
    return Setup(target, data, workdir, token, ours_env, bare_env)


@dataclass(frozen=True)
class Runs:
    ratio: dict[str, list[WrkResult]]
    depth: dict[str, list[WrkResult]]


def run(args: argparse.Namespace, setup: Setup) -> Runs:
    """Serve both apps, check they answer alike, then drive them with wrk."""
    data, workdir = setup.data, setup.workdir
    empty_config = workdir / "gunicorn-bare.conf.py"
    empty_config.write_text("# the bare app reads no settings\n")
    auth = {"Authorization": f"Bearer {setup.token}"}
    path = f"/v1/organisations/{data.big_organisation}/accounts"
    workers = args.workers
    with (
        gunicorn(
            "wsgi:app", setup.ours_env, workers=workers, log=workdir / "ours.log", cwd=ROOT
        ) as ours,
        gunicorn(
            "bench.bare_app:app",
            setup.bare_env,
            workers=workers,
            log=workdir / "bare.log",
            cwd=ROOT,
            config=empty_config,
        ) as bare,
    ):
        deep_ours = f"{ours}{path}?cursor={data.deep_cursor_ours}"
        deep_bare = f"{bare}{path}?cursor={data.deep_cursor_bare}"
        for mine, theirs in ((ours + path, bare + path), (deep_ours, deep_bare)):
            difference = page_difference(fetch_json(mine, auth), fetch_json(theirs, {}))
            if difference:
                raise SystemExit(
                    f"{mine} and {theirs} answer differently ({difference}): bench/bare_app.py "
                    "no longer serves the API's page, so the ratio would compare unlike work"
                )
        print(
            f"load: {describe_driver(args)} per run, {args.rounds} rounds alternating; "
            f"gunicorn -w {workers} (sync) each"
        )
        ratio_runs = alternate(
            {"bare": Load(bare + path, {}), "ours": Load(ours + path, auth)},
            driver=args.driver,
            rounds=args.rounds,
            seconds=args.seconds,
            threads=args.threads,
            connections=args.connections,
            warm_up=args.warm_up,
        )
        depth_runs = alternate(
            {"first": Load(ours + path, auth), "deep": Load(deep_ours, auth)},
            driver=args.driver,
            rounds=args.rounds,
            seconds=max(min(3.0, args.seconds), args.seconds * 0.75),
            threads=args.threads,
            connections=args.connections,
            warm_up=args.warm_up,
        )
    return Runs(ratio_runs, depth_runs)


def describe_driver(args: argparse.Namespace) -> str:
    if args.driver == "wrk":
        return f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s"
    return f"python driver, {args.connections} connections, {args.seconds:g} s (smoke figures)"


def page_difference(ours: Any, bare: Any) -> str | None:
    """How the two answers of one page differ (None: the same page, field for field).

    Strict: the same keys in the same order and equal values in every item, as many items as a
    full page, and the same next page (ours is a cursor of the last id, the bare app's the id).
    """
    if not isinstance(ours, dict) or not isinstance(bare, dict):
        return "not both JSON objects"
    if list(ours) != ["items", "next_cursor"] or list(bare) != ["items", "next_cursor"]:
        return f"page keys {list(ours)} against {list(bare)}"
    difference = items_difference(ours["items"], bare["items"])
    if difference:
        return difference
    if ours["next_cursor"] is None or bare["next_cursor"] is None:
        return "a full page without a next page"
    (after,) = decode_cursor(ours["next_cursor"], [Account.id])
    if str(after) != bare["next_cursor"]:
        return f"next page after {after} against after {bare['next_cursor']}"
    return None


def items_difference(mine: list[Any], theirs: list[Any]) -> str | None:
    """The first item field that differs, in its name or order, value or JSON type."""
    if len(mine) != 50 or len(theirs) != 50:
        return f"{len(mine)} items against {len(theirs)}, a page is 50"
    for position, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if list(a) != list(b):
            return f"item {position}: fields {list(a)} against {list(b)}"
        for name in a:
            if a[name] != b[name] or type(a[name]) is not type(b[name]):
                return f"item {position}, field {name!r}: {a[name]!r} against {b[name]!r}"
    return None


def report(runs: Runs) -> None:
    bare_rps, ours_rps = median_rps(runs.ratio["bare"]), median_rps(runs.ratio["ours"])
    first_rps, deep_rps = median_rps(runs.depth["first"]), median_rps(runs.depth["deep"])
    ratios = paired(runs.ratio["ours"], runs.ratio["bare"])
    depths = paired(runs.depth["first"], runs.depth["deep"])
    ratio, depth = statistics.median(ratios), statistics.median(depths)
    print(f"bare Flask + SQL : {bare_rps:8.1f} req/s   {describe(runs.ratio['bare'])}")
    print(f"ours (API, token): {ours_rps:8.1f} req/s   {describe(runs.ratio['ours'])}")
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(
        f"ratio ours/bare  : {ratio:.2f}  median of rounds [{figures(ratios)}]  "
        f"(goal >= {TARGET_RATIO:.2f}: {verdict})"
    )
    print(f"first page       : {first_rps:8.1f} req/s   {describe(runs.depth['first'])}")
    print(f"after 99,000     : {deep_rps:8.1f} req/s   {describe(runs.depth['deep'])}")
    verdict = "met" if depth <= TARGET_DEPTH else "NOT met"
    print(
        f"depth cost ratio : {depth:.2f}  median of rounds [{figures(depths)}]  "
        f"(goal <= {TARGET_DEPTH:.2f}: {verdict})"
    )


def main() -> None:
    args = parse_args()
    if args.profile is None:
        args.driver = choose_driver(args.driver)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="facito-bench-"))
    try:
        setup = set_up(args, workdir)
        if args.profile is not None:
            profile(setup, args.profile)
        else:
            report(run(args, setup))
        print(f"load average after: {load_average()}; total {time.perf_counter() - started:.0f} s")
    finally:
        if args.keep:
            print(f"logs and data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
