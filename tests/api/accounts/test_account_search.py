"""`q` through the trigram index finds exactly what a plain scan finds, in one organisation only,
and the index follows every change of the accounts it covers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text

from facito_admin.accounts import listing
from facito_admin.accounts.lifecycle import purge_due_accounts
from facito_admin.accounts.rules import key
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from tests.api.accounts.helpers import account_url, accounts_url, etag, list_all
from tests.conftest import Org
from tests.factories.accounts import make_account, search_index_differences

READER, ADMIN = "Organisation.Reader", "Organisation.Admin"

# (display name, e-mail, UPN) of each person; the last one is deleted. Both organisations get
# them all, in their own domain (<slug>.corp.example), so every term finds people in both.
PEOPLE = [
    ("Jan Straße", "jan@one.example", "jan.s@corp.example"),
    ("JOSÉ Müller", "Jose.Mueller@Two.Example", "jmuller@corp.example"),
    ("José Muller", None, "jose.muller@corp.example"),
    ("Ørjan Ødegård", "oe@corp.example", "orjan@corp.example"),
    ("Kees_Junior", None, "kj@corp.example"),
    ("Kees", None, "KEES.100%@corp.example"),
    ('Dirk "The Hammer" O\'Brien', "dirk@corp.example", "dirk\\admin@corp.example"),
    ("ΣΊΣΥΦΟΣ Παπαδόπουλος", "sisyfos@corp.example", "sp@corp.example"),
    ("山田 太郎", "yamada@corp.example", "taro@corp.example"),
    ("İlkay Çelik", "ilkay@corp.example", "ic@corp.example"),
    ("Anna AND Bob OR NEAR(x)", "anna*bob@corp.example", "a-b@corp.example"),
    ("Gone Person", "gone@corp.example", "gone@corp.example"),
]
DELETED = "Gone Person"

TERMS = [
    # case, casefolding, accents: the keys are casefolded, the term is too
    "straße",
    "STRASSE",
    "müller",
    "MULLER",
    "josé",
    "jose",
    "ødegård",
    "σίσυφος",
    "ΣΊΣΥΦΟΣ",
    "παπα",
    "山田",
    "山田 太",
    "i̇lkay",
    "İlkay",
    "ilkay",
    # LIKE's wildcards and escape are literal characters
    "%",
    "100%",
    "_",
    "s_j",
    "ees_",
    "\\",
    "k\\admin",
    "dirk\\a",
    # FTS5's syntax is literal too
    '"',
    '"the hammer"',
    "o'brien",
    "and bob or",
    "near(",
    "anna*",
    "a-b",
    "*",
    # short terms (the old path), e-mail fragments, whole addresses, nothing
    "j",
    "ja",
    "ø",
    "@",
    "@corp",
    ".example",
    "corp.example",
    "two.example",
    "jan@one.example",
    "JAN.S@CORP.EXAMPLE",
    "mple",
    "gone",
    "nobody",
    "zzz",
]


Person = tuple[str, str | None, str]


def _people_of(org: Org) -> list[Person]:
    domain = f"{org.slug}.corp.example"
    return [
        (name, email and email.replace("corp.example", domain), upn.replace("corp.example", domain))
        for name, email, upn in PEOPLE
    ]


@pytest.fixture
def people(client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth) -> None:
    for org in (org_a, org_b):
        for n, (name, email, upn) in enumerate(_people_of(org)):
            account = make_account(
                runtime, org.id, n, display_name=name, email=email, user_principal_name=upn
            )
            if name == DELETED:
                _delete(client, org, auth(org, ADMIN), str(account.id))


def _delete(client: FlaskClient, org: Org, admin: dict[str, str], account_id: str) -> None:
    tag = etag(client, org, account_id, admin)
    response = client.delete(account_url(org, account_id), headers=admin | {"If-Match": tag})
    assert response.status_code == 200, response.get_json()


def _search(client: FlaskClient, org: Org, headers: dict[str, str], q: str, **params) -> list:
    """The display names `q` finds, page by page (small pages: the cursors take part too)."""
    params = {"sort": "name", "limit": 3} | params
    items = list_all(client, accounts_url(org), headers, q=q, **params)
    assert {item["organisation_id"] for item in items} <= {str(org.id)}
    return [item["display_name"] for item in items]


def _scanned(people: list[Person], q: str, *, deleted: bool = False) -> list[str]:
    """What a plain scan finds: the term a substring of a casefolded key, in name order."""
    term = key(q)
    found = [
        (key(name), name)
        for name, email, upn in people
        if (name == DELETED) == deleted
        and any(term in key(value) for value in (name, email, upn) if value is not None)
    ]
    return [name for _, name in sorted(found)]


@pytest.fixture
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL the test's requests send."""
    seen: list[str] = []

    def _record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = runtime.database.engine
    event.listen(engine, "before_cursor_execute", _record)
    yield seen
    event.remove(engine, "before_cursor_execute", _record)


def _read_the_index(statements: list[str], dialect: str) -> bool:
    """Whether the page came from the index: on PostgreSQL through account_search_ids, on
    SQLite the page query (the one that reads accounts) took its rows from the FTS5 table."""
    if dialect == "postgresql":
        return any("account_search_ids" in s for s in statements)
    [page] = [s for s in statements if "FROM accounts" in s or "JOIN accounts" in s]
    return "account_search" in page


# How the index finds a term's accounts (accounts/listing.py; on PostgreSQL migration 0021):
# SQLite reads a rare term's candidates and scans for a common one (more than CANDIDATES);
# PostgreSQL's account_search_ids walks WALK_ROWS entries in page order, then takes up to
# RARE_ROWS matches from the trigram index, else walks on.
PATHS = {
    "rare": {"CANDIDATES": 1000},
    "common": {"CANDIDATES": 2},
    "looked-up": {"WALK_ROWS": 1},
    "walked-on": {"WALK_ROWS": 1, "RARE_ROWS": 1},
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("q", TERMS)
def test_a_search_finds_what_a_plain_scan_finds_and_only_in_its_organisation(
    client, runtime, people, org_a: Org, org_b: Org, auth, statements, monkeypatch, q, path
):
    """On SQLite, with few candidates the page is read from the index; with more (here: more
    than two) the term is common and the page is the organisation's accounts in order,
    filtered. On PostgreSQL every search asks the index for the entries in page order."""
    for name, value in PATHS[path].items():
        monkeypatch.setattr(listing, name, value)
    reader = auth(org_a, READER)
    expected = _scanned(_people_of(org_a), q)
    dialect = runtime.database.engine.dialect.name
    # On SQLite the candidates are counted across organisations: both have the same people.
    rare = len(expected) * 2 <= listing.CANDIDATES

    statements.clear()
    assert _search(client, org_a, reader, q, limit=50) == expected
    indexed = dialect == "postgresql" or (listing._indexable(key(q), dialect) and rare)
    assert _read_the_index(statements, dialect) == indexed
    assert _search(client, org_a, reader, q) == expected
    assert _search(client, org_a, reader, q, status="deleted") == _scanned(
        _people_of(org_a), q, deleted=True
    )
    # B finds its own people for the same term: the same names, none of A's accounts.
    assert _search(client, org_b, auth(org_b, READER), q) == _scanned(_people_of(org_b), q)
    # Both orders of both sorts, page by page.
    orders = [("name", "desc"), ("created", "asc"), ("created", "desc")]
    found = {
        order: _search(client, org_a, reader, q, sort=order[0], order=order[1]) for order in orders
    }

    # The old path, without the index, on the database itself: the same again.
    monkeypatch.setattr(listing, "_indexable", lambda *_: False)
    statements.clear()
    assert _search(client, org_a, reader, q) == expected
    assert not any("account_search" in statement for statement in statements)
    for (sort, order), names in found.items():
        assert _search(client, org_a, reader, q, sort=sort, order=order) == names


def test_the_index_follows_creates_renames_and_purges(
    client, runtime: Runtime, org_a: Org, org_b: Org, auth
):
    admin, reader = auth(org_a, ADMIN), auth(org_a, READER)
    account = make_account(runtime, org_a.id, 1, display_name="Wilhelmina Kruger")
    make_account(runtime, org_b.id, 1, display_name="Wilhelmina Kruger")
    assert _search(client, org_a, reader, "helmina") == ["Wilhelmina Kruger"]
    assert not search_index_differences(runtime)

    url = account_url(org_a, account.id)
    tag = etag(client, org_a, str(account.id), admin)
    renamed = client.patch(
        url,
        json={"display_name": "Beatrix Kruger", "email": "bea@palace.example"},
        headers=admin | {"If-Match": tag},
    )
    assert renamed.status_code == 200, renamed.get_json()
    assert _search(client, org_a, reader, "helmina") == []
    assert _search(client, org_a, reader, "beatrix") == ["Beatrix Kruger"]
    assert _search(client, org_a, reader, "@palace") == ["Beatrix Kruger"]
    assert not search_index_differences(runtime)

    _delete(client, org_a, admin, str(account.id))
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        assert purge_due_accounts(session, now=utcnow() + timedelta(days=3650)) == 1
    assert _search(client, org_a, reader, "kruger", status="deleted") == []
    assert _search(client, org_b, auth(org_b, READER), "kruger") == ["Wilhelmina Kruger"]
    assert not search_index_differences(runtime)


def test_the_query_plan_reads_the_index(client, runtime: Runtime, people, org_a: Org, auth):
    """On SQLite the plan does not depend on the data: FTS5 names the rowids, the accounts are
    read by rowid. (PostgreSQL's depends on its statistics: bench/account_search.py shows it.)"""
    engine = runtime.database.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's plan depends on the data and its statistics")
    sent: list[tuple[str, object]] = []

    def _record(_conn, _cursor, statement, parameters, *_args) -> None:
        if "JOIN accounts" in statement:
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", _record)
    try:
        assert _search(client, org_a, auth(org_a, READER), "müller") == ["JOSÉ Müller"]
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    statement, parameters = sent[0]
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    details = " / ".join(row[-1] for row in plan)
    assert "VIRTUAL TABLE INDEX" in details, details
    assert "SCAN hits" in details, details
    assert "SEARCH accounts USING INTEGER PRIMARY KEY (rowid=?)" in details, details


@pytest.mark.postgres_only
@pytest.mark.parametrize(("walk_rows", "rare_rows"), [(1000, 1000), (1, 1000), (1, 1), (1, 0)])
def test_the_application_role_reads_no_other_organisations_index_rows(
    runtime: Runtime, people, org_a: Org, org_b: Org, walk_rows: int, rare_rows: int
):
    """Directly (the index table's policy) nor through account_search_ids (the session's
    organisation only, however it finds them), and nothing in a session that serves none."""
    every = "SELECT organisation_id FROM account_search"
    through = text(
        "SELECT account_id FROM account_search_ids("
        "'corp.example', false, false, NULL, NULL, 1000, :walk_rows, :rare_rows)"
    ).bindparams(walk_rows=walk_rows, rare_rows=rare_rows)
    with runtime.database.engine.connect() as connection:
        connection.begin()
        assert connection.execute(text(every)).all() == []
        assert connection.execute(through).all() == []
        for org in (org_a, org_b):
            connection.execute(
                text("SELECT set_config('app.organisation_id', :org, true)"), {"org": str(org.id)}
            )
            assert set(connection.execute(text(every)).scalars()) == {org.id}
            ids = connection.execute(through).scalars().all()
            own = connection.execute(
                text("SELECT id FROM accounts WHERE organisation_id = :org ORDER BY id"),
                {"org": org.id},
            )
            assert len(ids) == len(PEOPLE) and ids == own.scalars().all()
        connection.rollback()
