"""Idempotency-Key on POST: the first outcome for a (client, key) is stored and replayed.

Same key and same request (method, path, query, JSON body) → the first response again, marked
``Idempotent-Replayed: true``; same key and another request → 422 ``idempotency-key-reused``;
same key while the first is still running → 409 ``idempotency-key-in-flight``. Records live
24 hours. Keys belong to the calling principal (tid:oid): another client's key never collides
with, nor replays, this one's.

Order of the hooks (``init_idempotency`` is called after the transaction hooks in app.py):

1. claim (before_request, after the rate limiter): the in-flight record is inserted and committed
   in its own short transaction, so a concurrent duplicate sees it;
2. stage (after_request, before the commit): for a good response the outcome is written in the
   request's own session, so the business write and its stored outcome commit together;
3. settle (after_request, after the commit): outcomes that did not commit with the request
   (4xx, a failed commit, POSTs without a session) are written on their own; a 5xx or a transient
   refusal deletes the record so the client can retry with the same key;
4. release (teardown): whatever escaped the above frees the key.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from apispec import APISpec, BasePlugin
from flask import Flask, Response, g, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..db.base import utcnow
from .access import authenticated_or_none
from .context import runtime
from .idempotency_models import IdempotencyRecord
from .problems import problem_response
from .transactions import exempt_from_audit

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
# A claim whose worker died (killed, out of memory) must not block its key for a day; requests
# are short (long work goes to jobs), so a claim this old is taken over.
IN_FLIGHT_LEASE = timedelta(minutes=5)
KEY_PATTERN = r"^[\x21-\x7E]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
# The headers that make a replay the same answer; X-Request-ID and rate-limit headers are fresh.
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")
# An answer marked `Cache-Control: no-store` carries a secret shown once (a webhook endpoint's
# signing secret, a SCIM token): its body is not kept, and a replay says where the result is
# instead.
WITHHELD_HEADER = "X-Facito-Answer-Withheld"
# Refusals that say nothing about the request itself: a retry with the same key runs again.
_TRANSIENT = frozenset({401, 408, 425, 429})

log = structlog.get_logger("facito_admin.idempotency")


class RecordState(StrEnum):
    in_flight = "in_flight"
    completed = "completed"


@dataclass
class _Claim:
    record_id: uuid.UUID
    staged: bool = False
    settled: bool = False


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """sha256 of what makes two requests the same: method, path, query and the JSON body.

    JSON bodies are compared by value (key order and whitespace do not matter).
    """
    canonical = body
    if body:
        try:
            canonical = json.dumps(
                json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        except (ValueError, RecursionError):
            canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _find(session: Session, client_key: str, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client_key == client_key, IdempotencyRecord.key == key
        )
    )


def _lapsed(record: IdempotencyRecord, now: datetime) -> bool:
    if record.expires_at <= now:
        return True
    return record.state == RecordState.in_flight and record.created_at <= now - IN_FLIGHT_LEASE


def _storable(response: Response) -> bool:
    status = response.status_code
    return status < 500 and status not in _TRANSIENT and not response.is_streamed


def _replay(record: IdempotencyRecord) -> Response:
    # The first request recorded the audit event of this change; a replay changes nothing.
    exempt_from_audit("idempotent replay of a stored answer")
    stored = record.response_headers or {}
    if stored.get(WITHHELD_HEADER):
        return _withheld(stored)
    response = Response(record.response_body or b"", status=record.response_status or 200)
    if "Content-Type" not in stored:
        response.headers.remove("Content-Type")
    for name, value in stored.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _withheld(stored: dict[str, str]) -> Response:
    location = {"Location": stored["Location"]} if "Location" in stored else {}
    return problem_response(
        409,
        code="idempotent-answer-withheld",
        title="The first answer is not replayed",
        detail="the request with this Idempotency-Key succeeded, but its answer held a secret "
        "that is shown only once and was not kept; read the resource and rotate its secret",
        headers=location | {REPLAYED_HEADER: "true"},
    )


def _in_flight() -> Response:
    return problem_response(
        409,
        code="idempotency-key-in-flight",
        title="Request in progress",
        detail="a request with this Idempotency-Key is still running; retry shortly",
        headers={"Retry-After": "1"},
    )


def _answer_existing(record: IdempotencyRecord, request_fingerprint: str) -> Response:
    if record.fingerprint != request_fingerprint:
        return problem_response(
            422,
            code="idempotency-key-reused",
            title="Idempotency-Key reused",
            detail="this Idempotency-Key was used for another request; send a new key",
        )
    if record.state != RecordState.completed:
        return _in_flight()
    return _replay(record)


def _claim() -> Response | None:
    """Insert the in-flight record (committed at once), or answer from an existing one."""
    if request.method != "POST" or HEADER not in request.headers:
        return None
    # Public POSTs and refused tokens go on to the view, which decides (a 401 is never stored).
    principal = authenticated_or_none()
    if principal is None:
        return None
    key = request.headers[HEADER]
    if not _KEY.fullmatch(key):
        return problem_response(
            400,
            code="invalid-idempotency-key",
            detail="Idempotency-Key must be 1 to 255 visible ASCII characters",
            errors=[
                {"field": HEADER, "location": "headers", "message": "1-255 visible ASCII chars"}
            ],
        )
    request_fingerprint = fingerprint(
        request.method, request.path, request.query_string, request.get_data()
    )
    now = utcnow()
    with runtime().session(write=True) as session:
        record = _find(session, principal.client_key, key)
        if record is not None and _lapsed(record, now):
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
            record = None
        if record is None:
            claim = IdempotencyRecord(
                client_key=principal.client_key,
                organisation_id=principal.organisation_id,
                key=key,
                method=request.method,
                path=request.path[:500],
                fingerprint=request_fingerprint,
                state=RecordState.in_flight,
                created_at=now,
                expires_at=now + RETENTION,
            )
            session.add(claim)
            try:
                session.commit()
            except IntegrityError:
                # A concurrent duplicate claimed the key between our read and our insert.
                session.rollback()
                record = _find(session, principal.client_key, key)
            else:
                g.idempotency = _Claim(claim.id)
                return None
        if record is None:
            # ...and released it again already: the client should simply retry.
            return _in_flight()
        return _answer_existing(record, request_fingerprint)


def _complete(session: Session, claim: _Claim, response: Response) -> None:
    headers = {
        name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers
    }
    body: bytes | None = response.get_data()
    if "no-store" in response.headers.get("Cache-Control", ""):
        headers[WITHHELD_HEADER] = "true"
        body = None
    session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == claim.record_id,
            IdempotencyRecord.state == RecordState.in_flight,
        )
        .values(
            state=RecordState.completed,
            response_status=response.status_code,
            response_headers=headers,
            response_body=body,
        )
    )


def _stage(response: Response) -> Response:
    """Write a good outcome in the request's session: it commits with the business write."""
    claim: _Claim | None = g.get("idempotency")
    session: Session | None = g.get("db_session")
    if claim is None or claim.settled or session is None:
        return response
    if response.status_code < 400 and _storable(response):
        # No autoflush: pending business rows flush at the commit, whose failure the
        # transaction hook answers (and _settle then stores that answer instead).
        with session.no_autoflush:
            _complete(session, claim, response)
        claim.staged = True
    return response


def _settle(response: Response) -> Response:
    """After the commit: store what did not commit with the request; free the key on a 5xx."""
    claim: _Claim | None = g.get("idempotency")
    if claim is None or claim.settled:
        return response
    claim.settled = True
    if claim.staged and response.status_code < 400:
        return response
    try:
        with runtime().session(write=True) as session:
            if _storable(response):
                _complete(session, claim, response)
            else:
                session.execute(
                    delete(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id)
                )
            session.commit()
    except SQLAlchemyError:
        # The answer stands; the claim lapses after IN_FLIGHT_LEASE and the key is usable again.
        log.exception("idempotency_settle_failed")
    return response


def _release(_error: BaseException | None) -> None:
    claim: _Claim | None = g.get("idempotency")
    if claim is None or claim.settled:
        return
    claim.settled = True
    try:
        with runtime().session(write=True) as session:
            session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id)
            )
            session.commit()
    except SQLAlchemyError:
        log.exception("idempotency_release_failed")


def init_idempotency(app: Flask) -> None:
    """Register the hooks; call it after the transaction hooks (see the module docstring)."""
    app.before_request(_claim)
    app.after_request(_stage)
    # after_request functions run in reverse registration order: first in the list, the
    # settlement runs last, after the transaction hook has committed or rolled back.
    app.after_request_funcs.setdefault(None, []).insert(0, _settle)
    # Likewise last among teardowns: after the request's session is closed (SQLite would make
    # the release wait on the write lock held by that very session).
    app.teardown_request_funcs.setdefault(None, []).insert(0, _release)


def purge_expired(session: Session, *, now: datetime | None = None, limit: int = 1000) -> int:
    """Delete up to ``limit`` records past their expiry (jobs/housekeeping.py); how many went.

    A batch at a time, so that a backlog never holds the database (on SQLite, its write lock)
    for long: the caller commits each batch and asks again until none is left.
    """
    expired = (
        select(IdempotencyRecord.id)
        .where(IdempotencyRecord.expires_at <= (now or utcnow()))
        .order_by(IdempotencyRecord.expires_at)
        .limit(limit)
    )
    result = session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.id.in_(expired.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class IdempotencyKeyPlugin(BasePlugin):
    """Documents the Idempotency-Key header and its 400/409/422 answers on every POST."""

    spec: APISpec

    def init_spec(self, spec: APISpec) -> None:
        self.spec = spec
        spec.components.parameter(
            "IdempotencyKey",
            "header",
            {
                "name": HEADER,
                "required": False,
                "description": "Any unique string (a UUID is fine) that makes retries of this "
                "POST safe for 24 hours: the same key with the same request replays the first "
                f"answer (with `{REPLAYED_HEADER}: true`); with another request it is refused "
                "with 422 `idempotency-key-reused`; while the first is still running, 409 "
                "`idempotency-key-in-flight`.",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "pattern": KEY_PATTERN,
                },
            },
        )

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        post = (operations or {}).get("post")
        if post is None:
            return
        # Names of components: apispec turns them into $refs when it resolves the path.
        post.setdefault("parameters", []).append("IdempotencyKey")
        responses = post.setdefault("responses", {})
        for status, name in (
            (400, "BAD_REQUEST"),
            (409, "CONFLICT"),
            (422, "UNPROCESSABLE_ENTITY"),
        ):
            if status not in responses and str(status) not in responses:
                responses[status] = name
