"""`q` search at 100,000 accounts: the trigram index against the plain scan, same data, same run.

What it does, for one database (SQLite by default, PostgreSQL with --database-url):
1. migrates and loads one organisation of --big accounts (100,000) and --organisations others of
   --per-organisation (100 x 1,000), names drawn from a few hundred given and family names
   (accents included), e-mail and UPN in the organisation's domain, 0.5 % deleted; bulk-inserted
   as the owner (the triggers of migration 0018 fill the index as they would in service);
   ANALYZE on PostgreSQL;
2. draws --terms search terms as people type them: 3 to 8 characters cut from a random
   account's display name, e-mail or UPN, whole family names, domain fragments, and misses;
   plus short terms (1 and 2 characters), which the index does not serve (reported apart);
3. runs each term through the service function of the list (accounts/listing.py fetch_page:
   first page of 50, sort=created and sort=name alternately), one session per search as a
   request has (row-level security in force on PostgreSQL: the app role), once with the
   index and once with the plain scan (listing._indexable forced off), in --rounds rounds that
   alternate which goes first; checks both give the same page for every term;
4. prints p50/p95 per path and the ratio, and the query plans (EXPLAIN QUERY PLAN on SQLite;
   on PostgreSQL EXPLAIN of the page query and of the walk and the trigram lookup that
   account_search_ids runs).

Compare the two paths of one run, not absolute figures across runs (load average printed).
Goal (issue 13): p50 <= 5 ms with the index on both databases.

Run:
    python bench/account_search.py                              # SQLite in a temp folder
    python bench/account_search.py --database-url \\
        postgresql+psycopg://facito_app@127.0.0.1:5432/facito_bench_search  # recreated
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.loading import (  # noqa: E402
    Target,
    account_row,
    analyse,
    bench_target,
    chunks,
    insert_organisation,
)
from bench.loadtest import load_average  # noqa: E402

from facito_admin.accounts import listing  # noqa: E402
from facito_admin.accounts.models import Account, AccountStatus  # noqa: E402
from facito_admin.accounts.rules import key  # noqa: E402
from facito_admin.bootstrap import build_runtime  # noqa: E402
from facito_admin.config import load_settings  # noqa: E402
from facito_admin.db.base import utcnow  # noqa: E402
from facito_admin.db.migrations import upgrade  # noqa: E402

TARGET_P50_MS = 5.0


def _words(text_: str) -> tuple[str, ...]:
    return tuple(text_.split())


GIVEN = _words(
    "Anna Bram Chloé Daan Emma Finn Gijs Hanna Ilse Joost Karin Lars Maud Niels Olga Pieter "
    "Quinten Rosa Sven Tess Umut Vera Wouter Xander Yara Zoë Ahmed Fatima Mohammed Aylin "
    "Björn Søren Åsa Jürgen Małgorzata Łukasz Zoltán Ágnes Renée José François Thérèse "
    "Miguel Iñigo Ömer Çağla Şebnem Ioana Nikolaos Δήμητρα Siobhán Dmitri Ольга Wei Yuki "
    "Priya Arjun "
)
FAMILY = _words(
    "Jansen de-Vries van-den-Berg Bakker Visser Smit Meijer de-Boer Mulder de-Groot Bos Vos "
    "Peters Hendriks van-Leeuwen Dekker Brouwer de-Wit Dijkstra Smits de-Graaf van-der-Meer "
    "Kok Jacobs de-Haan Vermeulen van-den-Heuvel van-der-Veen van-den-Broek de-Bruijn "
    "Schouten Müller Schmidt Schäfer Weiß Groß Nowak Wójcik Kowalski Łaski Horváth Kovács "
    "Nagy Öztürk Yılmaz Şahin García Martínez López Fernández Ibáñez Dubois Lefèvre "  # noqa: RUF001
    "Bérénice Rossi Bianchi Ó-Briain Mac-Cárthaigh Papadopoulos Παπαδάκης Иванов Nakamura "
    "Tanaka Sørensen Ødegaard Åkesson Lindqvist Nieminen Virtanen Popescu Novák Dvořák "
    "Kuznetsova Haddad Benali Gupta Patel "
)


def _ascii(text_: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text_).encode("ascii", "ignore").decode()
    return folded.lower().replace(" ", "").replace("'", "") or "x"


def _person(i: int, rng: random.Random) -> tuple[str, str, str]:
    given, family = rng.choice(GIVEN), rng.choice(FAMILY).replace("-", " ")
    name = f"{given} {family}"
    local = f"{_ascii(given)}.{_ascii(family)}"
    return name, f"{local}.{i}", f"{_ascii(given)[0]}{_ascii(family)}{i}"


def account_rows(
    organisation_id: uuid.UUID, count: int, slug: str, rng: random.Random
) -> Iterator[dict[str, Any]]:
    now = utcnow()
    domain = f"{slug}.example"
    for i in range(count):
        name, mail, login = _person(i, rng)
        yield account_row(
            organisation_id,
            i,
            created=now - timedelta(seconds=count - i),
            display_name=name,
            given_name=name.split(" ", 1)[0],
            family_name=name.split(" ", 1)[1],
            email=f"{mail}@{domain}",
            upn=f"{login}@{domain}",
            status=AccountStatus.deleted if i % 200 == 13 else AccountStatus.active,
        )


@dataclass(frozen=True)
class Dataset:
    organisation_id: uuid.UUID
    keys: list[tuple[str, str, str]]
    accounts: int


def load(target: Target, *, organisations: int, per_organisation: int, big: int) -> Dataset:
    """The organisations and their accounts, bulk-inserted as the owner."""
    rng = random.Random(13)
    engine = create_engine(target.owner_url)
    plan = [(f"bench-{n:03d}", per_organisation) for n in range(organisations)]
    plan.append(("bench-big", big))
    keys: list[tuple[str, str, str]] = []
    big_id = None
    with engine.begin() as connection:
        for slug, count in plan:
            organisation_id = insert_organisation(connection, target, slug=slug, name=slug)
            for batch in chunks(account_rows(organisation_id, count, slug, rng), 10_000):
                connection.execute(Account.__table__.insert(), batch)
                if slug == "bench-big":
                    keys += [(r["name_key"], r["email_key"], r["upn_key"]) for r in batch]
            if slug == "bench-big":
                big_id = organisation_id
    analyse(engine, target)
    if target.is_postgresql:
        # What autovacuum does after a bulk load, soon but at a time of its choosing: the
        # visibility map lets account_search_ids walk its indexes alone (migration 0021).
        with engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM account_search"))
    engine.dispose()
    assert big_id is not None
    return Dataset(big_id, keys, organisations * per_organisation + big)


def draw_terms(keys: list[tuple[str, str, str]], n: int, rng: random.Random) -> list[str]:
    """Terms as people type them: fragments of one account's keys, family names, misses."""
    terms: list[str] = []
    while len(terms) < n:
        kind = rng.random()
        if kind < 0.7:
            value = rng.choice(rng.choice(keys))
            length = rng.randint(3, 8)
            start = rng.randint(0, max(0, len(value) - length))
            term = value[start : start + length].strip()
        elif kind < 0.85:
            term = rng.choice(FAMILY).replace("-", " ")
        elif kind < 0.92:
            term = rng.choice(["example", "big.example", "@bench-big", ".example", "bench"])
        else:
            term = "".join(rng.choice("qxzjkvw") for _ in range(rng.randint(3, 6)))
        if len(key(term)) >= 3:
            terms.append(term)
    return terms


@contextmanager
def plain_scan() -> Iterator[None]:
    """The list without the index: the path every term took before migration 0018."""
    indexable = listing._indexable
    listing._indexable = lambda *_: False  # type: ignore[assignment]
    try:
        yield
    finally:
        listing._indexable = indexable  # type: ignore[assignment]


def search(runtime: Any, organisation_id: uuid.UUID, term: str, sort: str) -> list[str]:
    """One search through the list's service function, in a session of its own."""
    with runtime.session(organisation_id=organisation_id) as session:
        page = listing.fetch_page(
            session,
            listing.AccountFilter(q=term),
            sort=sort,
            descending=False,
            limit=50,
            cursor=None,
        )
    return [item["id"] for item in page.items]


def time_terms(
    runtime: Any, organisation_id: uuid.UUID, terms: list[str]
) -> tuple[list[float], dict[str, list[str]]]:
    """Milliseconds per search, and each search's page."""
    samples, pages = [], {}
    for n, term in enumerate(terms):
        sort = "name" if n % 2 else "created"
        started = time.perf_counter()
        pages[f"{sort}:{term}"] = search(runtime, organisation_id, term, sort)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, pages


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run_rounds(
    runtime: Any, organisation_id: uuid.UUID, terms: list[str], rounds: int
) -> dict[str, list[float]]:
    """Both paths over the same terms, alternating which goes first; pages compared."""
    timings: dict[str, list[float]] = {"index": [], "scan": []}
    paths: dict[str, Callable[[], Any]] = {"index": _no_change, "scan": plain_scan}
    for r in range(rounds):
        order = ["index", "scan"] if r % 2 == 0 else ["scan", "index"]
        pages = {}
        for path in order:
            with paths[path]():
                samples, pages[path] = time_terms(runtime, organisation_id, terms)
            timings[path] += samples
        differ = [t for t in pages["index"] if pages["index"][t] != pages["scan"][t]]
        if differ:
            raise SystemExit(f"the index and the scan disagree on {differ[:5]}")
    return timings


@contextmanager
def _no_change() -> Iterator[None]:
    yield


def plans(runtime: Any, target: Target, organisation_id: uuid.UUID, term: str) -> list[str]:
    """The database's plan of the page query of ``term`` (and, on PostgreSQL, of the queries
    inside account_search_ids, as its owner runs them)."""
    engine = runtime.database.engine
    sent: list[tuple[str, Any]] = []

    def _record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "ORDER BY accounts." in statement:  # the page query, not the candidates'
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", _record)
    try:
        search(runtime, organisation_id, term, "created")
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    statement, parameters = sent[-1]
    lines = []
    if target.is_postgresql:
        with engine.begin() as connection:
            connection.execute(
                text("SELECT set_config('app.organisation_id', :org, true)"),
                {"org": str(organisation_id)},
            )
            result = connection.exec_driver_sql(f"EXPLAIN ANALYZE {statement}", parameters)
            lines += [row[0] for row in result]
        owner = create_engine(target.owner_url)
        with owner.begin() as connection:
            # Its walk in page order (sort=created) and its trigram lookup (migration 0021).
            walk = (
                "SELECT account_id FROM account_search WHERE organisation_id = :org"
                " AND strpos(document, :term) > 0 ORDER BY account_id LIMIT 59"
            )
            lookup = (
                "SELECT account_id FROM account_search WHERE organisation_id = :org"
                f" AND document LIKE :pattern LIMIT {listing.RARE_ROWS + 1}"
            )
            values = {"org": organisation_id, "term": key(term), "pattern": f"%{key(term)}%"}
            for label, query in (("walk", walk), ("trigram lookup", lookup)):
                lines.append(f"-- account_search_ids' {label}, as its owner:")
                result = connection.execute(text(f"EXPLAIN ANALYZE {query}"), values)
                lines += [row[0] for row in result]
        owner.dispose()
    else:
        with engine.connect() as connection:
            result = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            lines += [row[-1] for row in result]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--database-url", help="PostgreSQL URL of the app role (recreated!)")
    parser.add_argument("--owner-role", default="facito_owner")
    parser.add_argument("--admin-user", default="postgres", help="creates the database")
    parser.add_argument("--organisations", type=int, default=100)
    parser.add_argument("--per-organisation", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--terms", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="facito-bench-search-") as folder:
        workdir = Path(folder)
        target = bench_target(
            args.database_url, workdir, owner_role=args.owner_role, admin_user=args.admin_user
        )
        print(f"== {target.label}; {os.cpu_count()} CPUs; load average {load_average()}")
        upgrade(target.owner_url, app_role=target.app_role)
        data = load(
            target,
            organisations=args.organisations,
            per_organisation=args.per_organisation,
            big=args.big,
        )
        print(
            f"data: {args.organisations} x {args.per_organisation} accounts + one organisation "
            f"of {args.big} ({data.accounts} accounts), loaded in "
            f"{time.perf_counter() - started:.1f} s"
        )
        rng = random.Random(2026)
        terms = draw_terms(data.keys, args.terms, rng)
        short = [rng.choice(rng.choice(data.keys))[: rng.randint(1, 2)] for _ in range(40)]
        settings = load_settings(
            {"database_url": target.app_url, "instance_path": workdir, "log_level": "WARNING"}
        )
        runtime = build_runtime(settings)
        try:
            for term in terms[:20]:  # warm both paths' statements and the caches
                search(runtime, data.organisation_id, term, "created")
                with plain_scan():
                    search(runtime, data.organisation_id, term, "created")
            timings = run_rounds(runtime, data.organisation_id, terms, args.rounds)
            short_timings = run_rounds(runtime, data.organisation_id, short, 1)
            report(timings, short_timings, len(terms), args.rounds)
            # A common term (the old path) and a rare one (the page read from the index).
            for term in ("müller", "jansen.1"):
                print(f"\nplan of q={term!r}:")
                for line in plans(runtime, target, data.organisation_id, term):
                    print(f"  {line}")
        finally:
            runtime.dispose()
    print(f"load average after: {load_average()}; total {time.perf_counter() - started:.0f} s")


def report(
    timings: dict[str, list[float]], short: dict[str, list[float]], terms: int, rounds: int
) -> None:
    print(f"{terms} terms of 3+ characters x {rounds} rounds per path (first page of 50):")
    for path in ("index", "scan"):
        samples = timings[path]
        print(
            f"  {path:5}: p50 {statistics.median(samples):7.2f} ms   "
            f"p95 {percentile(samples, 95):7.2f} ms   max {max(samples):7.2f} ms"
        )
    ratio = statistics.median(timings["scan"]) / statistics.median(timings["index"])
    p50 = statistics.median(timings["index"])
    verdict = "met" if p50 <= TARGET_P50_MS else "NOT met"
    print(f"  scan p50 / index p50: {ratio:.1f}x; goal p50 <= {TARGET_P50_MS} ms: {verdict}")
    print(
        f"  1-2 character terms (SQLite: the plain scan either way): p50 "
        f"{statistics.median(short['index']):.2f} ms, p95 {percentile(short['index'], 95):.2f} ms"
    )


if __name__ == "__main__":
    main()
