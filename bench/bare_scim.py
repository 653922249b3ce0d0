"""The durable baseline of bench/scim.py: plain Flask and SQL doing a SCIM server's durable work.

bench/scim.py compares our /scim/v2 with scim2-server, which keeps its users in memory. This
app is the other yardstick: the least a SCIM server on the same database must do to answer
like ours, in the same requests, with nothing else. It is a floor, not a competitor.

- Both operations check the bearer token as ours does: one of our SCIM tokens
  (``fscim.<organisation>.<token id>.<secret>``), its SHA-256 compared with the stored one, and
  refused when revoked or expired.
- POST /scim/v2/Users: in one transaction, the token read, a uniqueness check of the userName,
  email and externalId, the account row, and its audit event linked into the organisation's
  hash chain (the head locked, the event's hash from facito_admin/audit/chain.py, the head
  moved); 201 with the user.
- GET /scim/v2/Users?filter=userName eq "…": the token read and the account by its userName;
  200 with a ListResponse.

What it leaves out, and ours does: the organisation's and its federation's status, scim2-models'
validation of the body, email domain checks, the webhook subscribers of the change, the
rate limit, the access log, Prometheus, the ETag. Its chain takes the head in the request's own
transaction, so writers of one organisation queue behind each other for the rest of it;
ours does not (audit/sealing.py).

Database access is bench/bare_app.py's: the driver itself, one connection per worker process;
on PostgreSQL as the API's role, with row-level security, the organisation set in the first
statement of each transaction, as ours sets it.

Environment: BENCH_DATABASE_URL (a SQLAlchemy-style URL: sqlite:///path or
postgresql+psycopg://user@host:port/db).
Run: gunicorn -w 2 -b 127.0.0.1:8002 bench.bare_scim:app
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bench.bare_app import IS_SQLITE, connection
from flask import Flask, Response, request

from facito_admin.audit.chain import event_hash

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"
_USER_NAME_EQ = re.compile(r'^userName eq "([^"]*)"$')

app = Flask(__name__)


class _Refused(Exception):
    """The token is refused (401); the message says why."""


class _Conflict(Exception):
    """The userName, email or externalId is another account's (409)."""


def _sql(statement: str) -> str:
    """The statement in the driver's parameter style (%s here, ? for sqlite3)."""
    return statement.replace("%s", "?") if IS_SQLITE else statement


def _db_id(value: uuid.UUID) -> Any:
    # SQLAlchemy's Uuid type stores 32 hex digits on SQLite.
    return value.hex if IS_SQLITE else value


def _db_instant(value: datetime) -> Any:
    # SQLite: naive UTC text, as SQLAlchemy's DateTime stores it.
    return value.replace(tzinfo=None).isoformat(sep=" ") if IS_SQLITE else value


def _error(status: int, detail: str) -> Response:
    body = {"schemas": [ERROR], "status": str(status), "detail": detail}
    return Response(json.dumps(body), status=status, mimetype=SCIM_JSON)


@contextmanager
def _transaction(organisation_id: uuid.UUID, token_id: uuid.UUID, secret: str) -> Iterator[Any]:
    """A cursor in a transaction of the organisation, once the token is checked (else raises)."""
    database = connection()
    if IS_SQLITE:
        cursor = database.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(
                "SELECT secret_sha256, revoked_at, expires_at FROM scim_tokens "
                "WHERE id = ? AND organisation_id = ?",
                [token_id.hex, organisation_id.hex],
            )
            _check_token(cursor.fetchone(), secret)
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
        return
    with database.transaction(), database.cursor() as cursor:
        cursor.execute(
            "SELECT secret_sha256, revoked_at, expires_at FROM scim_tokens "
            "WHERE id = %s AND (SELECT set_config('app.organisation_id', %s, true)) IS NOT NULL",
            [token_id, str(organisation_id)],
        )
        _check_token(cursor.fetchone(), secret)
        yield cursor


def _check_token(row: Any, secret: str) -> None:
    digest = hashlib.sha256(secret.encode()).hexdigest()
    if row is None or not hmac.compare_digest(row[0], digest):
        raise _Refused("unknown token")
    if row[1] is not None:
        raise _Refused("token revoked")
    expires_at = row[2]
    if isinstance(expires_at, str):
        expires_at = datetime.fromisoformat(expires_at).replace(tzinfo=UTC)
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise _Refused("token expired")


def _token() -> tuple[uuid.UUID, uuid.UUID, str] | None:
    """The organisation, token id and secret of the bearer token; None if it is not one."""
    header = request.headers.get("Authorization", "")
    parts = header.removeprefix("Bearer ").split(".")
    if len(parts) != 4 or parts[0] != "fscim" or not parts[3]:
        return None
    try:
        return uuid.UUID(hex=parts[1]), uuid.UUID(hex=parts[2]), parts[3]
    except ValueError:
        return None


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _user(row: dict[str, Any]) -> dict[str, Any]:
    """The SCIM representation of an account row."""
    user: dict[str, Any] = {
        "schemas": [USER],
        "id": str(row["id"]),
        "userName": row["user_principal_name"],
        "displayName": row["display_name"],
        "active": row["status"] == "active",
        "meta": {
            "resourceType": "User",
            "created": row["created_at"],
            "lastModified": row["updated_at"],
            "location": f"{request.host_url}scim/v2/Users/{row['id']}",
            "version": f'W/"{row["version"]}"',
        },
    }
    if row["external_id"] is not None:
        user["externalId"] = row["external_id"]
    if row["given_name"] is not None or row["family_name"] is not None:
        user["name"] = {"givenName": row["given_name"], "familyName": row["family_name"]}
    if row["email"] is not None:
        user["emails"] = [{"value": row["email"], "type": "work", "primary": True}]
    return user


@app.get("/livez")
def livez() -> Response:
    return Response("ok", mimetype="text/plain")


@app.post("/scim/v2/Users")
def create_user() -> Response:
    token = _token()
    if token is None:
        return _error(401, "a SCIM bearer token is required")
    try:
        body = json.loads(request.get_data())
    except ValueError:
        return _error(400, "the body is not JSON")
    user_name = body.get("userName") if isinstance(body, dict) else None
    if not isinstance(user_name, str) or not user_name.strip():
        return _error(400, "userName is required")
    emails = body.get("emails") or [{}]
    email = emails[0].get("value")
    name = body.get("name") or {}
    external_id = body.get("externalId")
    organisation_id, token_id, secret = token
    now = datetime.now(UTC)
    account_id = uuid.uuid4()
    row = {
        "organisation_id": _db_id(organisation_id),
        "id": _db_id(account_id),
        "user_principal_name": user_name,
        "upn_key": user_name.casefold(),
        "email": email,
        "email_key": email.casefold() if email else None,
        "display_name": body.get("displayName") or user_name,
        "name_key": (body.get("displayName") or user_name).casefold(),
        "given_name": name.get("givenName"),
        "family_name": name.get("familyName"),
        "source": "scim",
        "external_id": external_id,
        "status": "active" if body.get("active", True) else "suspended",
        "status_changed_at": _db_instant(now),
        "is_minor": False,
        "version": 1,
        "created_at": _db_instant(now),
        "updated_at": _db_instant(now),
    }
    try:
        with _transaction(organisation_id, token_id, secret) as cursor:
            # One probe per unique index, as ours: an OR of them is planned as one condition,
            # and SQLite then reads every account of the organisation.
            organisation = row["organisation_id"]
            cursor.execute(
                _sql(
                    "SELECT 1 FROM accounts WHERE organisation_id = %s AND upn_key = %s"
                    " AND status <> 'deleted'"
                    " UNION ALL SELECT 1 FROM accounts WHERE organisation_id = %s"
                    " AND email_key = %s AND status <> 'deleted'"
                    " UNION ALL SELECT 1 FROM accounts WHERE organisation_id = %s"
                    " AND external_id = %s LIMIT 1"
                ),
                [
                    organisation,
                    row["upn_key"],
                    organisation,
                    row["email_key"],
                    organisation,
                    external_id,
                ],
            )
            if cursor.fetchone() is not None:
                raise _Conflict
            columns = ", ".join(row)
            marks = ", ".join(["%s"] * len(row))
            cursor.execute(
                _sql(f"INSERT INTO accounts ({columns}) VALUES ({marks})"), list(row.values())
            )
            _append_event(cursor, organisation_id, account_id, now)
    except _Refused as refused:
        return _error(401, str(refused))
    except _Conflict:
        return _error(409, "userName, email or externalId is taken")
    instant = _instant(now)
    shown = {**row, "id": account_id, "created_at": instant, "updated_at": instant}
    user = _user(shown)
    response = Response(json.dumps(user), status=201, mimetype=SCIM_JSON)
    response.headers["Location"] = user["meta"]["location"]
    return response


def _append_event(
    cursor: Any, organisation_id: uuid.UUID, account_id: uuid.UUID, now: datetime
) -> None:
    """The creation's audit event, linked after the organisation's chain head (locked)."""
    cursor.execute(
        _sql(
            "SELECT seq, hash FROM audit_chain_heads WHERE organisation_id = %s"
            + ("" if IS_SQLITE else " FOR UPDATE")
        ),
        [_db_id(organisation_id)],
    )
    seq, prev_hash = cursor.fetchone()
    event = {
        "id": str(uuid.uuid4()),
        "organisation_id": str(organisation_id),
        "seq": seq + 1,
        "occurred_at": now,
        "actor_kind": "scim_client",
        "actor_tid": "",
        "actor_oid": "bench",
        "actor_display": "SCIM token bench",
        "action": "org:account:create",
        "target_type": "account",
        "target_id": str(account_id),
        "outcome": "success",
        "request_id": uuid.uuid4().hex,
        "details": {"source": "scim", "status": "active"},
    }
    digest = event_hash(event, prev_hash)
    stored = {
        **event,
        "id": _db_id(uuid.UUID(event["id"])),
        "organisation_id": _db_id(organisation_id),
        "occurred_at": _db_instant(now),
        "details": json.dumps(event["details"]),
        "prev_hash": prev_hash,
        "hash": digest,
    }
    columns = ", ".join(stored)
    marks = ", ".join(["%s"] * len(stored))
    cursor.execute(
        _sql(f"INSERT INTO audit_events ({columns}) VALUES ({marks})"), list(stored.values())
    )
    cursor.execute(
        _sql("UPDATE audit_chain_heads SET seq = %s, hash = %s WHERE organisation_id = %s"),
        [seq + 1, digest, _db_id(organisation_id)],
    )


@app.get("/scim/v2/Users")
def find_users() -> Response:
    token = _token()
    if token is None:
        return _error(401, "a SCIM bearer token is required")
    match = _USER_NAME_EQ.match(request.args.get("filter", ""))
    if match is None:
        return _error(400, 'only filter=userName eq "…" is served here')
    organisation_id, token_id, secret = token
    try:
        with _transaction(organisation_id, token_id, secret) as cursor:
            cursor.execute(
                _sql(
                    "SELECT id, user_principal_name, display_name, status, given_name, "
                    "family_name, email, external_id, created_at, updated_at, version "
                    "FROM accounts WHERE organisation_id = %s AND upn_key = %s "
                    "AND status <> 'deleted'"
                ),
                [_db_id(organisation_id), match.group(1).casefold()],
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, found, strict=True)) for found in cursor.fetchall()]
    except _Refused as refused:
        return _error(401, str(refused))
    resources = []
    for row in rows:
        for key in ("created_at", "updated_at"):
            value = row[key]
            if isinstance(value, str):  # SQLite: naive UTC text
                value = datetime.fromisoformat(value).replace(tzinfo=UTC)
            row[key] = _instant(value)
        if isinstance(row["id"], str):
            row["id"] = uuid.UUID(row["id"])
        resources.append(_user(row))
    body = {
        "schemas": [LIST_RESPONSE],
        "totalResults": len(resources),
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }
    return Response(json.dumps(body), mimetype=SCIM_JSON)
