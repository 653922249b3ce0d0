"""What a request holds: the app's runtime, its one session, its id."""

from __future__ import annotations

import uuid
from typing import cast

from flask import current_app, g, request
from sqlalchemy.orm import Session

from ..runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RUNTIME_EXTENSION = "facito"


def runtime() -> Runtime:
    """The app's runtime (bootstrap.py): settings, database, validator, queue, outbound clients."""
    return cast(Runtime, current_app.extensions[RUNTIME_EXTENSION])


def db_session(*, write: bool | None = None) -> Session:
    """The request's session: one per request, committed by the edge after a good response.

    It writes unless the method is safe; ``write=True`` is for the rare GET that writes (a
    redirect back from Entra), so that SQLite takes its write lock at BEGIN. Opening it does
    not begin a transaction: the first statement does, so work done before it (parsing a
    large body) holds no lock.
    """
    session = g.get("db_session")
    if session is None:
        writing = request.method not in SAFE_METHODS if write is None else write
        session = runtime().session(write=writing)
        g.db_session = session
    return cast(Session, session)


def request_id() -> str:
    """The request's id (made here if the request-id hook has not run: body and header agree)."""
    value = g.get("request_id")
    if not value:
        value = g.request_id = uuid.uuid4().hex
    return cast(str, value)
