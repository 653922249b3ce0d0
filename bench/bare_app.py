"""The baseline of bench/list_accounts.py: plain Flask, the database driver, one query, json.dumps.

It answers GET /v1/organisations/<org_id>/accounts[?cursor=<uuid>] with the same page of 50
accounts the API answers (same columns, same keyset order on (organisation_id, id), deleted
accounts left out, the same JSON field names and formats), and nothing else: no token, no
rate limit, no metrics, no access log, no ORM. It is a floor, not a competitor.
Its columns and their JSON forms come from the account field table (facito_admin/accounts/
fields.py: plain data, read without the app or the ORM), so a field the API gains, it gains.

Database access is the driver itself (sqlite3 or psycopg), one connection per worker process
(gunicorn's sync workers serve one request at a time), no pool. On PostgreSQL it connects as
the same non-owner role as the API and sets ``app.organisation_id`` in each transaction, so
row-level security is in force for both and both pay the same round trips for it; on SQLite it
runs its one SELECT outside a transaction. The driver's values are turned into the API's JSON
the obvious way, with the standard library (uuid.UUID, datetime.fromisoformat, isoformat);
the API's own list code reshapes SQLite's stored text without parsing it and lets PostgreSQL
write the text of ids and instants, which is part of why it keeps up.

Environment: BENCH_DATABASE_URL (a SQLAlchemy-style URL: sqlite:///path or
postgresql+psycopg://user@host:port/db).
Run: gunicorn -w 2 -b 127.0.0.1:8001 bench.bare_app:app
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, Response, abort, request

from facito_admin.accounts.fields import FIELDS, Kind

# The API's fields (AccountSchema's, from the account field table; plain data, no ORM) and the
# day an account stops being a minor's, from which is_minor follows.
SHOWN = [field for field in FIELDS.values() if field.shown]
NAMES = [*(field.name for field in SHOWN), "adult_on"]
COLUMNS = ", ".join(NAMES)
LIMIT = 50

app = Flask(__name__)
_URL = os.environ.get("BENCH_DATABASE_URL", "")
IS_SQLITE = _URL.startswith("sqlite")
_connection: Any = None


def _connect() -> Any:
    if IS_SQLITE:
        connection = sqlite3.connect(_URL.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("PRAGMA busy_timeout=30000")
        return connection
    import psycopg

    # postgresql+psycopg://… → postgresql://…
    return psycopg.connect("postgresql://" + _URL.split("://", 1)[1])


def connection() -> Any:
    # Opened lazily, so that each gunicorn worker (forked after import) has its own.
    global _connection  # noqa: PLW0603 - one connection per worker process, on purpose
    if _connection is None:
        _connection = _connect()
    return _connection


def _rows(org_id: uuid.UUID, after: uuid.UUID | None) -> list[tuple[Any, ...]]:
    keyset = " AND id > {}" if after else ""
    if IS_SQLITE:
        # SQLAlchemy's Uuid type stores 32 hex digits on SQLite.
        sql = (
            f"SELECT {COLUMNS} FROM accounts WHERE organisation_id = ? AND status <> 'deleted'"
            f"{keyset.format('?')} ORDER BY id LIMIT {LIMIT + 1}"
        )
        params = [org_id.hex] + ([after.hex] if after else [])
        return connection().execute(sql, params).fetchall()
    sql = (
        f"SELECT {COLUMNS} FROM accounts WHERE organisation_id = %s AND status <> 'deleted'"
        f"{keyset.format('%s')} ORDER BY id LIMIT {LIMIT + 1}"
    )
    params2: list[Any] = [org_id] + ([after] if after else [])
    database = connection()
    with database.transaction(), database.cursor() as cursor:
        cursor.execute("SELECT set_config('app.organisation_id', %s, true)", [str(org_id)])
        cursor.execute(sql, params2)
        return cursor.fetchall()


def _uuid(value: Any) -> str | None:
    if value is None:
        return None
    return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(value))


def _ts(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: naive UTC text
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _day_text(value: Any) -> str | None:
    day = _day(value)
    return None if day is None else day.isoformat()


_RENDER = {Kind.uuid: _uuid, Kind.instant: _ts, Kind.date: _day_text, Kind.bool: bool}


def _item(row: tuple[Any, ...], today: date) -> dict[str, Any]:
    r = dict(zip(NAMES, row, strict=True))
    item: dict[str, Any] = {}
    for field in SHOWN:
        value, render = r[field.name], _RENDER.get(field.kind)
        item[field.name] = value if render is None or value is None else render(value)
    adult_on = _day(r["adult_on"])
    # The one computed field (Account.minor_now).
    item["is_minor"] = bool(r["is_minor"]) if adult_on is None else today < adult_on
    return item


@app.get("/livez")
def livez() -> Response:
    return Response("ok", mimetype="text/plain")


@app.get("/v1/organisations/<uuid:org_id>/accounts")
def accounts(org_id: uuid.UUID) -> Response:
    cursor = request.args.get("cursor")
    try:
        after = uuid.UUID(cursor) if cursor else None
    except ValueError:
        abort(422)
    rows = _rows(org_id, after)
    today = datetime.now(UTC).date()
    items = [_item(row, today) for row in rows[:LIMIT]]
    next_cursor = items[-1]["id"] if len(rows) > LIMIT else None
    body = json.dumps({"items": items, "next_cursor": next_cursor}, separators=(",", ":"))
    return Response(body, mimetype="application/json")
