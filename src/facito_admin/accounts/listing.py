"""The account list's hot path: a select of column values, rendered straight to JSON.

The list is the busiest read of the API (admin portals and sync checks page through it), so it
selects mapped columns (rows, no entity construction), takes the driver's values as they come
(no SQLAlchemy result processing: on SQLite that would parse every timestamp and id only to
format them again; PostgreSQL is asked for the text of ids and instants), shapes them for JSON
once, and skips marshmallow. Its statements are built once per shape of request with bound
parameters (bench/list_accounts.py measures all this against a bare Flask endpoint).

Selecting the mapped attributes rather than the table keeps it an ORM statement, which
db/tenancy.py:scoped_rows gives the organisation criteria of every ORM query before running it
without ORM result loading; the explicit organisation filter leads the index, and on PostgreSQL
row-level security still applies underneath.

The rendering must equal ``AccountSchema().dump(account)`` field for field (the test
tests/integration/accounts/test_account_listing.py holds the two together on SQLite and
PostgreSQL); both take the fields, their order and kinds from the field table (fields.py).
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from ..common.pagination import Page, decode_cursor, encode_cursor
from ..db.base import utcnow
from ..db.tenancy import REUSED_STATEMENT, require_organisation, scoped_rows
from . import rules
from .fields import FIELDS, Kind
from .models import Account, AccountSource, AccountStatus

# The fields the list renders: AccountSchema's, in its order (fields.py).
_SHOWN = tuple(field for field in FIELDS.values() if field.shown)
# What _item reads beside them: the day an account stops being a minor's (is_minor, rendered as
# Account.minor_now) and, for cursors of sort=name, the name key.
_EXTRA = {"adult_on": Kind.date, "name_key": Kind.text}
# The order _item reads. Not organisation_id: every row has the session's (the filter, the
# tenancy criteria and row-level security all say so), so the page writes that one.
_READ = tuple(field.name for field in _SHOWN if field.name != "organisation_id")
COLUMNS: tuple[ColumnElement[Any], ...] = tuple(
    getattr(Account, name) for name in (*_READ, *_EXTRA)
)
_POSITION = {column.key: position for position, column in enumerate(COLUMNS)}
_KINDS = {field.name: field.kind for field in _SHOWN} | _EXTRA
_UUIDS = frozenset(name for name, kind in _KINDS.items() if kind is Kind.uuid)
_TIMESTAMPS = frozenset(name for name, kind in _KINDS.items() if kind is Kind.instant)
_DATES = frozenset(name for name, kind in _KINDS.items() if kind is Kind.date)
# OutputSchema's formats as PostgreSQL's to_char writes them (of the UTC instant); constants,
# written into the SQL rather than sent as a dozen parameters with every query.
_PG_UTC: ColumnElement[str] = literal_column("'UTC'")
_PG_TIMESTAMP: ColumnElement[str] = literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'""")
_PG_DAY: ColumnElement[str] = literal_column("'YYYY-MM-DD'")


def _selected(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """What the list selects of ``column``: the value as the driver gives it, no SQLAlchemy
    result processing (NullType has none). SQLite stores ids, instants and days as text, which
    _item reshapes; PostgreSQL is asked for the JSON text itself (canonical UUID, to_char),
    which it writes faster than Python formats the objects psycopg would build."""
    key = str(column.key)
    expression: ColumnElement[Any] = column
    if dialect == "postgresql":
        if key in _UUIDS:
            expression = cast(column, Text)
        elif key in _TIMESTAMPS:
            expression = func.to_char(func.timezone(_PG_UTC, column), _PG_TIMESTAMP)
        elif key in _DATES:
            expression = func.to_char(column, _PG_DAY)
    return type_coerce(expression, NullType()).label(key)


SORT_KEYS = {"created": (Account.id,), "name": (Account.name_key, Account.id)}

# `q` and the search index (migrations 0018 and 0021): a table beside accounts, kept in step
# by triggers, that names the accounts whose keys hold a term. The page is read from accounts
# by the ids it names, where the organisation filter (and row-level security), the list's
# filters and the term decide as without the index. The old path, without it: the
# organisation's accounts in page order until the page is full.
# - PostgreSQL, every term: account_search_ids(term, ...), the session's organisation's first
#   entries in page order after the cursor whose keys hold the term (migration 0021 says how
#   it finds them: a walk of its indexes in page order, the trigram GIN when the term is rare
#   and has trigrams). When the list's filters leave the page short, the next entries are
#   asked for (ROUNDS times, each four times as many), then the old path goes on from the
#   last one. A function because accounts' row-level security keeps the planner from using an
#   index for a search on accounts itself, and from its statistics: the page query tests the
#   term with strpos, whose default estimate (a third of the rows) lets the old path walk the
#   organisation's accounts in page order, where a LIKE's ("rare", the longer the pattern)
#   made it read and sort all of them.
# - SQLite, terms of three characters or more (trigrams find nothing shorter): when at most
#   CANDIDATES accounts hold the term (counted over all organisations, the FTS5 table has
#   none), the FTS5 trigram table's rowids whose keys hold the term as a phrase (a substring
#   of one key in FTS5's case folding: a superset of the LIKEs' matches); the page query
#   reads them first (a subquery with a LIMIT is materialised, not reordered), accounts by
#   rowid. A common term takes the old path.
CANDIDATES = 1000
# account_search_ids: how many entries it walks in page order before it asks the trigram
# index, and up to how many matches it takes from there (sorted) rather than walk on.
WALK_ROWS = 6000
RARE_ROWS = 2000
ROUNDS = 3
_PG_HITS = text(
    "SELECT account_id, name_key FROM account_search_ids("
    ":term, :by_name, :descending, :after_name, :after_id, :max_rows, :walk_rows, :rare_rows)"
).bindparams(
    bindparam("after_name", type_=String()),
    bindparam("after_id", type_=Uuid()),
    bindparam("max_rows", type_=Integer()),
)
_MIN_TRIGRAM = 3
_ALNUM_RUN = re.compile(r"[^\W_]{3}")  # _MIN_TRIGRAM letters or digits in a row
_FTS5_MATCHES: Select[Any] = (
    select(literal_column("rowid").label("rid"))
    .select_from(table("account_search"))
    .where(literal_column("account_search").op("MATCH")(bindparam("terms")))
    .limit(bindparam("most", type_=Integer()))
)
_FTS5_HITS = _FTS5_MATCHES.subquery("hits")
_FTS5_COUNT = select(func.count()).select_from(_FTS5_MATCHES.subquery())


def _indexable(term: str, dialect: str) -> bool:
    """Whether the search index serves ``term`` (a key)."""
    if dialect == "postgresql":
        # account_search_ids walks its indexes for any term; only its trigram lookup needs
        # _trigrams.
        return True
    return len(term) >= _MIN_TRIGRAM


def _trigrams(term: str) -> bool:
    """Whether pg_trgm makes trigrams of ``term``: of runs of letters and digits only."""
    return _ALNUM_RUN.search(term) is not None


def _fts5_phrase(term: str) -> str:
    """``term`` as an FTS5 string: a phrase, every character literal."""
    return '"' + term.replace('"', '""') + '"'


def _fts5_candidates(session: Session, term: str) -> dict[str, Any] | None:
    """The parameters of SQLite's indexed page query if ``term`` is rare, else None."""
    most = CANDIDATES + 1
    terms = _fts5_phrase(term)
    count = session.scalar(_FTS5_COUNT, {"terms": terms, "most": most})
    return {"terms": terms, "most": most} if count is not None and count <= CANDIDATES else None


@dataclass(frozen=True)
class AccountFilter:
    status: AccountStatus | None = None
    source: AccountSource | None = None
    department: str | None = None
    q: str | None = None


@functools.lru_cache(maxsize=512)
def _statement(
    *,
    dialect: str,
    status: bool,
    source: bool,
    department: bool,
    q: bool,
    indexed: bool,
    sort: str,
    descending: bool,
    after: bool,
) -> Select[Any]:
    """The select of one shape of list request, built once; values come as parameters.

    Every value is a bound parameter, so one statement object serves all organisations and
    filter values (building the expression tree costs more than running it on a hot list).
    Selecting the mapped attributes keeps it an ORM select of Account, so the tenancy criteria
    apply; comparisons use the typed attributes (bound values are converted as usual).
    """
    c = Account
    columns = [_selected(column, dialect) for column in COLUMNS]
    query = select(*columns)
    if indexed and dialect == "sqlite":
        query = query.select_from(_FTS5_HITS).join(
            Account, literal_column("accounts.rowid") == _FTS5_HITS.c.rid
        )
    query = query.where(c.organisation_id == bindparam("organisation_id"))
    query = query.where(
        c.status == bindparam("status") if status else c.status != AccountStatus.deleted
    )
    if source:
        query = query.where(c.source == bindparam("source"))
    if department:
        query = query.where(c.department == bindparam("department"))
    if q and dialect == "postgresql":
        # The term a substring of a key: what the LIKE below says (deterministic collations).
        term: BindParameter[str] = bindparam("term")
        searched = (c.name_key, c.email_key, c.upn_key)
        query = query.where(or_(*(func.strpos(column, term) > 0 for column in searched)))
        if indexed:
            candidates = bindparam("candidates", type_=postgresql.ARRAY(Uuid()))
            query = query.where(c.id == any_(candidates))
    elif q:
        pattern: BindParameter[str] = bindparam("pattern")
        query = query.where(
            or_(
                c.name_key.like(pattern, escape="\\"),
                c.email_key.like(pattern, escape="\\"),
                c.upn_key.like(pattern, escape="\\"),
            )
        )
    keys = SORT_KEYS[sort]
    if after:
        bound = tuple_(*(bindparam(f"after_{i}", type_=k.type) for i, k in enumerate(keys)))
        query = query.where(tuple_(*keys) < bound if descending else tuple_(*keys) > bound)
    order = [k.desc() for k in keys] if descending else list(keys)
    statement = query.order_by(*order).limit(bindparam("limit", type_=Integer()))
    # Executed for every list request: the tenancy guard keeps its scoped form (db/tenancy.py).
    return statement.execution_options(**{REUSED_STATEMENT: True})


@dataclass(frozen=True)
class _Formats:
    """JSON of the values the driver returns for _selected's columns, per database."""

    # (field, conversion) for each field read whose driver value is not its JSON yet; called
    # with values that are not None.
    conversions: tuple[tuple[str, Callable[[Any], Any]], ...]
    day: Callable[[Any], str]


def _formats(by_kind: dict[Kind, Callable[[Any], Any]], day: Callable[[Any], str]) -> _Formats:
    conversions = tuple(
        (field.name, by_kind[field.kind])
        for field in _SHOWN
        if field.name in _READ and field.kind in by_kind and not field.computed_as
    )
    return _Formats(conversions, day)


def _sqlite_uuid(value: str) -> str:
    # SQLAlchemy's Uuid is 32 lowercase hex digits on SQLite.
    if len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(value))


def _sqlite_timestamp(value: str) -> str:
    # Naive UTC as SQLAlchemy writes it (`YYYY-MM-DD HH:MM:SS.ffffff`); OutputSchema's format.
    if len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    return datetime.fromisoformat(value).isoformat(timespec="microseconds") + "Z"


def _sqlite_day(value: str) -> str:
    if len(value) == 10:
        return value
    return date.fromisoformat(value).isoformat()


def _as_is(value: str) -> str:
    return value


_FORMATS = {
    "sqlite": _formats(
        {
            Kind.uuid: _sqlite_uuid,
            Kind.instant: _sqlite_timestamp,
            Kind.date: _sqlite_day,
            Kind.bool: bool,
        },
        _sqlite_day,
    ),
    # _selected asked PostgreSQL for the text already; its booleans are booleans.
    "postgresql": _formats({}, _as_is),
}


def fetch_page(
    session: Session,
    account_filter: AccountFilter,
    *,
    sort: str,
    descending: bool,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """One keyset page of the session's organisation's accounts as JSON-ready items."""
    f = account_filter
    keys = SORT_KEYS[sort]
    organisation_id = require_organisation(session)
    dialect = session.get_bind().dialect.name
    term = None if f.q is None else rules.key(f.q)
    params: dict[str, Any] = {
        "organisation_id": organisation_id,
        "status": f.status,
        "source": f.source,
        "department": f.department,
        "term": term,
        "pattern": None if f.q is None else rules.search_pattern(f.q),
    }
    shape = {
        "dialect": dialect,
        "status": f.status is not None,
        "source": f.source is not None,
        "department": f.department is not None,
        "q": f.q is not None,
        "sort": sort,
        "descending": descending,
    }

    def read(after: Sequence[Any] | None, wanted: int, **index: Any) -> Sequence[Any]:
        statement = _statement(**shape, indexed=bool(index), after=after is not None)
        bound = {f"after_{i}": value for i, value in enumerate(after or ())}
        return scoped_rows(session, statement, params | index | bound | {"limit": wanted})

    after = decode_cursor(cursor, keys) if cursor else None
    rows: Sequence[Any] | None = None
    if term is not None and _indexable(term, dialect):
        if dialect == "postgresql":
            rows = _indexed_rows(
                session,
                read,
                term=term,
                sort=sort,
                descending=descending,
                after=after,
                wanted=limit + 1,
            )
        elif (index := _fts5_candidates(session, term)) is not None:
            rows = read(after, limit + 1, **index)
    if rows is None:
        rows = read(after, limit + 1)
    formats = _FORMATS[dialect]
    today = utcnow().date().isoformat()
    organisation = str(organisation_id)
    items = [_item(row, formats, today, organisation) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        # The cursor holds the same text as before (ids with dashes), whatever the database.
        last_row, last_id = rows[limit - 1], items[-1]["id"]
        next_cursor = encode_cursor(
            [last_id if key is Account.id else last_row[_POSITION[key.key]] for key in keys]
        )
    return Page(items, next_cursor)


def _indexed_rows(
    session: Session,
    read: Callable[..., Sequence[Any]],
    *,
    term: str,
    sort: str,
    descending: bool,
    after: Sequence[Any] | None,
    wanted: int,
) -> list[Any]:
    """Up to ``wanted`` rows of the page from account_search_ids' entries (PostgreSQL)."""
    rows: list[Any] = []
    asked = wanted + 8  # a few to spare for the list's filters
    for _ in range(ROUNDS):
        hits = session.execute(
            _PG_HITS,
            {
                "term": term,
                "by_name": sort == "name",
                "descending": descending,
                "after_name": after[0] if after and sort == "name" else None,
                "after_id": after[-1] if after else None,
                "max_rows": asked,
                "walk_rows": WALK_ROWS,
                "rare_rows": RARE_ROWS if _trigrams(term) else 0,
            },
        ).all()
        if hits:
            rows += read(after, wanted - len(rows), candidates=[hit[0] for hit in hits])
        if len(rows) >= wanted or len(hits) < asked:
            return rows
        # The filters left the page short: the entries after the last one asked for.
        after = [hits[-1][1], hits[-1][0]] if sort == "name" else [hits[-1][0]]
        asked *= 4
    return rows + list(read(after, wanted - len(rows)))


# AccountSchema's keys in its order, for _item to fill.
_BLANK = dict.fromkeys(field.name for field in _SHOWN)
_ADULT_ON = _POSITION["adult_on"]


def _item(row: tuple[Any, ...], f: _Formats, today: str, organisation: str) -> dict[str, Any]:
    item = _BLANK.copy()
    # zip stops at the last field read: the extra columns come after them.
    item.update(zip(_READ, row, strict=False))
    item["organisation_id"] = organisation
    # The optional fields are mostly empty: no call for those (this runs for every row).
    for name, convert in f.conversions:
        value = item[name]
        if value is not None:
            item[name] = convert(value)
    # Account.minor_now, without the entity (ISO dates compare as text); the one field whose
    # value is computed (fields.py: computed_as).
    adult_on = row[_ADULT_ON]
    item["is_minor"] = bool(item["is_minor"]) if adult_on is None else today < f.day(adult_on)
    return item


def render_page(page: Page[dict[str, Any]]) -> bytes:
    """The page as the JSON body AccountPageSchema describes."""
    # orjson rather than json.dumps: a page of 50 accounts took about 150 us to encode, 14 %
    # of the request (bench/list_accounts.py --profile: 1,030 -> 884 us). The items hold only
    # str, int, bool and None, which both encode alike (orjson leaves non-ASCII unescaped).
    return orjson.dumps({"items": page.items, "next_cursor": page.next_cursor})
