"""SCIM bearer tokens as callers: the principal of a token, and its last use.

SCIM's authenticator (scim/protocol.py): the token names its organisation (scim/tokens.py),
the request's session is bound to it, and one query checks the token (in a session of its own
when the request writes on SQLite, whose writers lock the database from their BEGIN).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from flask import g
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from ..auth.context import Principal, PrincipalKind
from ..auth.permissions import SCIM_TOKEN_PERMISSIONS
from ..db.base import utcnow
from ..db.session import bind_organisation
from ..errors import Unauthenticated
from ..http import db_session, request_writes, runtime
from . import tokens
from .models import ScimToken

log = structlog.get_logger("facito_admin.scim")
# last_used_at is a hint for administrators, not a log: written at most once a minute.
TOUCH_INTERVAL = timedelta(minutes=1)


def _refuse(reason: str) -> Unauthenticated:
    return Unauthenticated(f"invalid SCIM token: {reason}", extra={"reason": reason})


def scim_principal(value: str | None) -> Principal:
    """The SCIM client behind a bearer token, or Unauthenticated (401)."""
    if value is None:
        raise _refuse("send the organisation's SCIM token as `Authorization: Bearer <token>`")
    parts = tokens.parse_token(value)
    if parts is None:
        raise _refuse("not a SCIM token")
    session = db_session()
    bind_organisation(session, parts.organisation_id)
    now = utcnow()
    if not request_writes() or not runtime().database.is_sqlite:
        # In the request's transaction (PostgreSQL's begins with the organisation's settings):
        # the same snapshot rules as a session of its own, without its round trips.
        found = tokens.resolve_token(session, parts, now=now)
    else:
        # A writing session takes SQLite's database-wide write lock at its BEGIN (db/session.py):
        # the token is read in a short session of its own, so the request's begins with the
        # view's work on its resource, after the body is parsed (scim/users.py, scim/groups.py).
        with runtime().session(organisation_id=parts.organisation_id) as reading:
            found = tokens.resolve_token(reading, parts, now=now)
    if isinstance(found, str):
        raise _refuse(found)
    if found.last_used_at is None or found.last_used_at <= now - TOUCH_INTERVAL:
        g.scim_token_touch = (found.organisation_id, found.id)
    return Principal(
        kind=PrincipalKind.scim_client,
        tenant_id="",
        object_id=str(found.id),
        display_name=f"SCIM token {found.description}"[:200],
        roles=frozenset(),
        permissions=SCIM_TOKEN_PERMISSIONS,
        organisation_id=found.organisation_id,
    )


def touch_last_used(_error: BaseException | None = None) -> None:
    """teardown: note the token's use, after the request's own transaction has ended.

    A session of its own, so a failed request still counts as a use, and so that SQLite's
    write lock is never asked for while the request's session might hold it.
    """
    touch: tuple[uuid.UUID, uuid.UUID] | None = g.pop("scim_token_touch", None)
    if touch is None or g.get("db_session") is not None:
        return
    organisation_id, token_id = touch
    now = utcnow()
    try:
        with runtime().session(organisation_id=organisation_id, write=True) as session:
            session.execute(
                update(ScimToken)
                .where(
                    ScimToken.id == token_id,
                    or_(
                        ScimToken.last_used_at.is_(None),
                        ScimToken.last_used_at <= now - TOUCH_INTERVAL,
                    ),
                )
                .values(last_used_at=now)
            )
            session.commit()
    except SQLAlchemyError:
        # The answer is already given; a missed note of use is not worth an error.
        log.warning("scim_token_touch_failed", token_id=str(token_id))
