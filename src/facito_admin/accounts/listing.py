"""The account list's hot path: a select of raw column values, rendered straight to JSON.

The list is the busiest read of the API (admin portals and sync checks page through it), so it
selects mapped columns (rows, no entity construction), takes the driver's values as they come
(no SQLAlchemy result processing: on SQLite that would parse every timestamp and id only to
format them again), formats them for JSON once, and skips marshmallow. Selecting the mapped
attributes rather than the table keeps the ORM's organisation criteria in force (the tenancy
guard refuses Core statements on tenant tables); the explicit organisation filter leads the
index, and on PostgreSQL row-level security still applies underneath.

The rendering must equal ``AccountSchema().dump(account)`` field for field (the test
tests/integration/accounts/test_account_listing.py holds the two together on SQLite and
PostgreSQL), so a field added to the schema goes into COLUMNS and _item as well.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from ..common.pagination import Page, decode_cursor, encode_cursor
from ..db.base import utcnow
from ..db.tenancy import REUSED_STATEMENT, require_organisation
from . import rules
from .models import Account, AccountSource, AccountStatus

# The order _item unpacks.
COLUMNS: tuple[ColumnElement[Any], ...] = tuple(
    getattr(Account, name)
    for name in (
        "id",
        "organisation_id",
        "user_principal_name",
        "email",
        "display_name",
        "name_key",
        "given_name",
        "family_name",
        "employee_number",
        "department",
        "manager_id",
        "entra_oid",
        "source",
        "external_id",
        "status",
        "status_changed_at",
        "deleted_at",
        "purge_after",
        "birth_date",
        "is_minor",
        "adult_on",
        "guardian_consent_at",
        "created_at",
        "updated_at",
    )
)
# Built once: the driver's values (NullType has no result processor); still an ORM select of
# Account, so the tenancy criteria apply. Comparisons use the typed attributes (bind values).
_POSITION = {column.key: position for position, column in enumerate(COLUMNS)}
_RAW: tuple[ColumnElement[Any], ...] = tuple(
    type_coerce(column, NullType()).label(column.key) for column in COLUMNS
)
_SELECT: Select[Any] = select(*_RAW)
SORT_KEYS = {"created": (Account.id,), "name": (Account.name_key, Account.id)}


@dataclass(frozen=True)
class AccountFilter:
    status: AccountStatus | None = None
    source: AccountSource | None = None
    department: str | None = None
    q: str | None = None


@functools.lru_cache(maxsize=256)
def _statement(
    *,
    status: bool,
    source: bool,
    department: bool,
    q: bool,
    sort: str,
    descending: bool,
    after: bool,
) -> Select[Any]:
    """The select of one shape of list request, built once; values come as parameters.

    Every value is a bound parameter, so one statement object serves all organisations and
    filter values (building the expression tree costs more than running it on a hot list).
    """
    c = Account
    query = _SELECT.where(c.organisation_id == bindparam("organisation_id"))
    query = query.where(
        c.status == bindparam("status") if status else c.status != AccountStatus.deleted
    )
    if source:
        query = query.where(c.source == bindparam("source"))
    if department:
        query = query.where(c.department == bindparam("department"))
    if q:
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
    """JSON text of the driver's raw values, per database."""

    uuid: Callable[[Any], str | None]
    timestamp: Callable[[Any], str | None]
    day: Callable[[Any], str | None]


def _sqlite_uuid(value: str | None) -> str | None:
    # SQLAlchemy's Uuid is 32 lowercase hex digits on SQLite.
    if value is None:
        return None
    if len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(value))


def _sqlite_timestamp(value: str | None) -> str | None:
    # Naive UTC as SQLAlchemy writes it (`YYYY-MM-DD HH:MM:SS.ffffff`); OutputSchema's format.
    if value is None:
        return None
    if len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    return datetime.fromisoformat(value).isoformat(timespec="microseconds") + "Z"


def _sqlite_day(value: str | None) -> str | None:
    if value is None or len(value) == 10:
        return value
    return date.fromisoformat(value).isoformat()


def _native_uuid(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _native_timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def _native_day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


_SQLITE = _Formats(_sqlite_uuid, _sqlite_timestamp, _sqlite_day)
# Drivers that return Python objects (psycopg).
_NATIVE = _Formats(_native_uuid, _native_timestamp, _native_day)


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
    params: dict[str, Any] = {
        "organisation_id": require_organisation(session),
        "status": f.status,
        "source": f.source,
        "department": f.department,
        "pattern": None if f.q is None else rules.search_pattern(f.q),
        "limit": limit + 1,
    }
    if cursor:
        params.update({f"after_{i}": v for i, v in enumerate(decode_cursor(cursor, keys))})
    statement = _statement(
        status=f.status is not None,
        source=f.source is not None,
        department=f.department is not None,
        q=f.q is not None,
        sort=sort,
        descending=descending,
        after=bool(cursor),
    )
    rows: Sequence[Any] = session.execute(statement, params).all()
    formats = _SQLITE if session.get_bind().dialect.name == "sqlite" else _NATIVE
    today = utcnow().date().isoformat()
    items = [_item(row, formats, today) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        # The cursor holds the same text as before (ids with dashes), whatever the database.
        last_row, last_id = rows[limit - 1], items[-1]["id"]
        next_cursor = encode_cursor(
            [last_id if key is Account.id else last_row[_POSITION[key.key]] for key in keys]
        )
    return Page(items, next_cursor)


def _item(row: tuple[Any, ...], f: _Formats, today: str) -> dict[str, Any]:
    (
        id_,
        organisation_id,
        upn,
        email,
        display_name,
        _name_key,
        given_name,
        family_name,
        employee_number,
        department,
        manager_id,
        entra_oid,
        source,
        external_id,
        status,
        status_changed_at,
        deleted_at,
        purge_after,
        birth_date,
        is_minor,
        adult_on,
        guardian_consent_at,
        created_at,
        updated_at,
    ) = row
    timestamp = f.timestamp
    adult = f.day(adult_on)
    return {
        "id": f.uuid(id_),
        "organisation_id": f.uuid(organisation_id),
        "user_principal_name": upn,
        "email": email,
        "display_name": display_name,
        "given_name": given_name,
        "family_name": family_name,
        "employee_number": employee_number,
        "department": department,
        "manager_id": f.uuid(manager_id),
        "entra_oid": entra_oid,
        "source": source,
        "external_id": external_id,
        "status": status,
        "status_changed_at": timestamp(status_changed_at),
        "deleted_at": timestamp(deleted_at),
        "purge_after": timestamp(purge_after),
        "birth_date": f.day(birth_date),
        # Account.minor_on, without the entity (ISO dates compare as text).
        "is_minor": bool(is_minor) if adult is None else today < adult,
        "guardian_consent_at": timestamp(guardian_consent_at),
        "created_at": timestamp(created_at),
        "updated_at": timestamp(updated_at),
    }


def render_page(page: Page[dict[str, Any]]) -> str:
    """The page as the JSON body AccountPageSchema describes."""
    return json.dumps({"items": page.items, "next_cursor": page.next_cursor}, separators=(",", ":"))
