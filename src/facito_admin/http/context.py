"""What a request holds: the app's runtime, its one session, its id."""

from __future__ import annotations

import uuid
from typing import Any, cast

from flask import current_app, g, request
from sqlalchemy.orm import Session

from ..runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RUNTIME_EXTENSION = "facito"
# Where a view that changes nothing keeps why (transactions.audit_exempt).
AUDIT_EXEMPT_ATTR = "_audit_exempt_reason"
# Where a GET view that records an audit event keeps why (transactions.audited_read).
AUDITED_READ_ATTR = "_audited_read_reason"


def runtime() -> Runtime:
    """The app's runtime (bootstrap.py): settings, database, validator, queue, outbound clients."""
    return cast(Runtime, current_app.extensions[RUNTIME_EXTENSION])


def view_marker(name: str) -> Any:
    """The marker ``name`` on the view of this request (HEAD falls back to GET, as routing does)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    handler = view
    if view_class is not None:
        handler = getattr(view_class, request.method.lower(), None)
        if handler is None and request.method == "HEAD":
            handler = getattr(view_class, "get", None)
    return getattr(handler, name, None)


def request_writes() -> bool:
    """Whether this request may change something (its session takes SQLite's write lock).

    A change that declared it changes nothing (a POST search) reads; a read that declared it
    records something (an audited read of content, transactions.audited_read) writes.
    """
    if g.get("staff_visit") is not None:
        # A staff member's call inside an organisation is recorded in its own transaction
        # (http/transparency.py), whatever its method.
        return True
    if request.method in SAFE_METHODS:
        return view_marker(AUDITED_READ_ATTR) is not None
    return view_marker(AUDIT_EXEMPT_ATTR) is None


def db_session(*, write: bool | None = None) -> Session:
    """The request's session: one per request, committed by the edge after a good response.

    It writes unless the method is safe or the view declared that it changes nothing (a SCIM
    search is a POST); ``write=True`` is for the rare GET that writes (a redirect back from
    Entra), so that SQLite takes its write lock at BEGIN. Opening it does not begin a
    transaction: the first statement does, so work done before it (parsing a large body)
    holds no lock.
    """
    session = g.get("db_session")
    if session is None:
        writing = request_writes() if write is None else write
        session = runtime().session(write=writing)
        g.db_session = session
    return cast(Session, session)


def request_id() -> str:
    """The request's id (made here if the request-id hook has not run: body and header agree)."""
    value = g.get("request_id")
    if not value:
        value = g.request_id = uuid.uuid4().hex
    return cast(str, value)
