"""What a request holds: the app's runtime, its one session, its id."""

from __future__ import annotations

import uuid
from typing import cast

from flask import current_app, g, request
from sqlalchemy.orm import Session

from ..runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RUNTIME_EXTENSION = "facito"
# Where a view that changes nothing keeps why (transactions.audit_exempt).
AUDIT_EXEMPT_ATTR = "_audit_exempt_reason"


def runtime() -> Runtime:
    """The app's runtime (bootstrap.py): settings, database, validator, queue, outbound clients."""
    return cast(Runtime, current_app.extensions[RUNTIME_EXTENSION])


def _changes_nothing() -> bool:
    """Whether the view of this request declared that it changes nothing (a POST search)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    handler = getattr(view_class, request.method.lower(), None) if view_class else view
    return getattr(handler, AUDIT_EXEMPT_ATTR, None) is not None


def request_writes() -> bool:
    """Whether this request may change something (its session takes SQLite's write lock)."""
    return request.method not in SAFE_METHODS and not _changes_nothing()


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
