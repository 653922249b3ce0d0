"""The request's session for routes under /v1/me, bound to the caller's own organisation.

Those paths name no organisation (the edge binds sessions to the path's `org_id` only): the
caller's token does. Shared by every module of /v1/me that reads the caller's own rows.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..db.session import bind_organisation
from ..errors import NotFound
from ..http import authenticate, db_session


def own_session() -> Session:
    """The request's session, serving the caller's organisation; 404 for a caller without one."""
    principal = authenticate()
    if principal.organisation_id is None:
        raise NotFound("no account of yours in an organisation")
    session = db_session()
    bind_organisation(session, principal.organisation_id)
    return session
