"""Restriction (GDPR art. 18): the subject's data is kept but no longer otherwise used.

One ProcessingRestriction row in force per account (accounts/models.py; a partial unique
index). What honours it: integrations read none of the account's linked data records
(user_data/service.py: 409 `processing-restricted`), and the preferences show interest-based
advertising and partner sharing off, source `restriction` (consents/preferences.py). It is
lifted only through POST …/accounts/{id}/processing-restriction/lift (restrictions.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ...accounts.models import ProcessingRestriction
from ...accounts.service import get_account, restriction_in_force
from ...db.base import utcnow
from ...jobs import JobContext, job_handler
from ...webhooks.events import WebhookEventType
from ..actions import RequestAction
from ..models import RequestKind
from ..service import FULFILMENT_JOBS
from .base import account_of, finish, load_request, refusals, tell_integrations

EFFECTS = (
    "integrations read none of the account's linked data records (409 processing-restricted)",
    "interest-based advertising and partner sharing are off (preferences source: restriction)",
)


@job_handler(FULFILMENT_JOBS[RequestKind.restriction])
def restrict(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Restrict the processing of the subject's data, or find it restricted already."""
    request = load_request(session, ctx)
    account_id = account_of(request)
    with refusals():
        get_account(session, account_id=account_id)
    # A restriction in force (an earlier request's, or this job's redone step) is the one.
    restriction = restriction_in_force(session, account_id=account_id)
    placed = restriction is None
    if restriction is None:
        restriction = ProcessingRestriction(
            account_id=account_id,
            request_id=request.id,
            reason=f"GDPR art. 18(1): data-subject request {request.reference}",
            restricted_at=utcnow(),
        )
        session.add(restriction)
        session.flush()
    result = {
        "restriction_id": str(restriction.id),
        "restricted_at": restriction.restricted_at.isoformat(),
        "already_in_force": not placed,
        "effects": list(EFFECTS),
    }
    stored = finish(
        session,
        ctx,
        request,
        action=RequestAction.Restrict,
        event="restricted",
        result=result,
        note={"restriction_id": str(restriction.id), "already_in_force": not placed},
        audit={"restriction_id": str(restriction.id), "already_in_force": not placed},
    )
    tell_integrations(
        session, request, WebhookEventType.DsrRestricted, restriction_id=str(restriction.id)
    )
    ctx.progress(1, 1)
    return stored
