"""Lifting a restriction of processing (GDPR art. 18(3)); placing one is a request's
fulfilment (fulfilment/restriction.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import ProcessingRestriction
from ..audit.service import record_event
from ..auth.context import RequestContext
from ..db.base import utcnow
from ..errors import NotFound
from . import handling
from .actions import RestrictionAction
from .models import SubjectRequest


def lift_restriction(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID, reason: str
) -> ProcessingRestriction:
    """Lift the account's restriction in force; the request that placed it notes it, so the
    subject reads it there (art. 18(3): they are told before it is lifted)."""
    restriction = session.scalars(
        select(ProcessingRestriction)
        .where(
            ProcessingRestriction.account_id == account_id,
            ProcessingRestriction.lifted_at.is_(None),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    # Another organisation's account answers like an account without a restriction.
    if restriction is None:
        raise NotFound("no processing restriction in force for this account")
    restriction.lifted_at = utcnow()
    restriction.lift_reason = reason
    request = None
    if restriction.request_id is not None:
        request = session.scalars(
            select(SubjectRequest)
            .where(SubjectRequest.id == restriction.request_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
    if request is not None:
        handling.note(
            request, ctx, "restriction_lifted", restriction_id=str(restriction.id), reason=reason
        )
    session.flush()
    record_event(
        session,
        ctx,
        action=RestrictionAction.Lift,
        target_type="processing_restriction",
        target_id=restriction.id,
        details={
            "account_id": str(account_id),
            "request_id": None if request is None else str(request.id),
        },
    )
    return restriction
