"""One transaction per request, JSON bodies only, and no change without its audit event.

The request's session (context.db_session) is committed after a good answer and rolled back
otherwise. A successful change that recorded no audit event is undone and answered 500: the
audit domain tells the edge how to count events (``AuditCheck``), views that change nothing
say so with :func:`audit_exempt`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import structlog
from flask import Flask, Response, g, json, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from .context import AUDIT_EXEMPT_ATTR, AUDITED_READ_ATTR, SAFE_METHODS
from .problems import problem_response
from .transparency import record_apart, record_in_request

F = TypeVar("F", bound=Callable[..., Any])
# Whether a session recorded at least one audit event (audit/service.py: events_recorded).
AuditCheck = Callable[[Session], bool]
log = structlog.get_logger("facito_admin.audit")


def exempt_from_audit(reason: str) -> None:
    """Let this mutating request succeed without an audit event (it provably changed nothing).

    For layers that answer without running a view's change, e.g. an Idempotency-Key replay.
    """
    g.audit_exempt_reason = reason


def audit_exemption() -> str | None:
    """Why the current request needs no audit event, if it was exempted."""
    return cast(str | None, g.get("audit_exempt_reason"))


def audit_exempt(*, reason: str) -> Callable[[F], F]:
    """Opt a POST/PUT/PATCH/DELETE view out of the rule that every change is audited.

    For requests that change nothing (a search sent as POST, building a consent URL). The
    reason is kept on the view (``_audit_exempt_reason``) so tests can list exemptions.
    """
    if not reason.strip():
        raise ValueError("say why this view changes nothing")

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            exempt_from_audit(reason)
            return func(*args, **kwargs)

        setattr(wrapper, AUDIT_EXEMPT_ATTR, reason)
        return cast(F, wrapper)

    return decorator


def audited_read(*, reason: str) -> Callable[[F], F]:
    """Mark a GET view that records an audit event (a read of personal content is itself a
    fact to keep): its session writes from the start (context.request_writes), so that SQLite
    takes its write lock at BEGIN rather than failing to upgrade a read lock later."""
    if not reason.strip():
        raise ValueError("say what this read records")

    def decorator(func: F) -> F:
        setattr(func, AUDITED_READ_ATTR, reason)
        return func

    return decorator


def _audited(session: Session | None, response: Response, recorded: AuditCheck) -> bool:
    """False for a successful mutating request that recorded no audit event and is not exempt.

    Events count only in the request's own session. Requests that matched no route are left
    to their error answer.
    """
    if request.method in SAFE_METHODS or response.status_code >= 400:
        return True
    if request.url_rule is None or audit_exemption() is not None:
        return True
    return session is not None and recorded(session)


# Where the body the edge parsed waits for the view's arguments (http/arguments.py).
PARSED_BODY = "json_body"


def _parse_json_body(body: bytes) -> Response | None:
    """Parse the body once for the whole request (`g.json_body`); 400 when it is not JSON.

    One answer for every route: webargs would answer malformed JSON itself, but lets the
    RecursionError of a deeply nested body escape as a 500. Strict UTF-8, as webargs reads it
    (RFC 8259 §8.1). The view's arguments are then loaded from this value, not parsed again.
    """
    try:
        setattr(g, PARSED_BODY, json.loads(body.decode("utf-8")))
    except RecursionError:
        detail = "the JSON body nests too deeply"
    except UnicodeDecodeError as error:
        detail = f"the body is not UTF-8 JSON: {error.reason}"
    except ValueError as error:
        detail = f"the body is not valid JSON: {error}"[:300]
    else:
        return None
    return problem_response(
        400,
        code="invalid-json",
        title="Invalid JSON",
        detail=detail,
        errors=[{"field": "_body", "location": "json", "message": detail}],
    )


def init_transactions(app: Flask, *, audit_recorded: AuditCheck) -> None:
    """Register the body checks, the commit after the answer and the session's cleanup."""

    @app.before_request
    def _require_json_bodies() -> Response | None:
        if request.method in SAFE_METHODS:
            return None
        if not request.content_length and "chunked" not in request.headers.get(
            "Transfer-Encoding", ""
        ):
            return None
        mimetype = request.mimetype or ""
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            return problem_response(
                415, code="unsupported-media-type", detail="send the body as application/json"
            )
        body = request.get_data()
        limit = request.max_content_length
        if (
            request.content_length is None
            and limit is not None
            and len(body) >= limit
            and request.input_stream.read(1)
        ):
            # A chunked body has no Content-Length to refuse up front, and werkzeug stops
            # reading it at the limit without a word: the cut body would be invalid JSON (400).
            raise RequestEntityTooLarge()
        return _parse_json_body(body)

    @app.after_request
    def _finish_transaction(response: Response) -> Response:
        session = g.pop("db_session", None)
        if not _audited(session, response, audit_recorded):
            # Every change is audited in its own transaction (DESIGN: audit); a view that
            # forgot must fail loudly rather than commit an unaudited change.
            if session is not None:
                session.rollback()
                session.close()
            log.error(
                "mutation_without_audit_event",
                method=request.method,
                endpoint=request.endpoint,
                status=response.status_code,
            )
            record_apart(500)
            return problem_response(
                500,
                code="audit-event-missing",
                title="Internal server error",
                detail="the change was not recorded in the audit log, so it was undone",
            )
        if session is None:
            record_apart(response.status_code)
            return response
        try:
            if response.status_code < 400:
                record_in_request(session, response.status_code)
                session.commit()
            else:
                session.rollback()
        except Exception as error:  # noqa: BLE001 - a failed commit must still answer an error
            session.rollback()
            session.close()
            failed = app.handle_user_exception(error)
            record_apart(getattr(failed, "status_code", 500))
            return failed  # type: ignore[return-value]
        session.close()
        if response.status_code >= 400:
            record_apart(response.status_code)
        return response

    @app.teardown_request
    def _close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
