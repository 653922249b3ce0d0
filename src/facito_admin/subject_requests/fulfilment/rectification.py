"""Rectification (GDPR art. 16): the approved changes of the request applied to the account.

The changes were checked against AccountUpdateSchema when the request was filed and stored as
JSON (schemas.py); they are loaded, and so checked, again here: the account may have changed
meanwhile. They go through accounts.service.update_account like an administrator's edit,
without a precondition (``ANY``, as SCIM's follow-up changes do): the request, not an ETag
the job never saw, is what approved them.

Before and after values are kept on the request (results and timeline), not in the audit:
the audit chain is append-only and hashed, and personal data written there could never be
erased (art. 17). The audit events (the account's update and the request's rectify) name the
fields only; the request row is the record of the values, and the subject reads it.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy.orm import Session

from ...accounts.schemas import AccountUpdateSchema
from ...accounts.service import get_account, update_account
from ...common.conditional import ANY
from ...jobs import JobContext, JobFailed, job_handler
from ...webhooks.events import WebhookEventType
from ..actions import RequestAction
from ..models import RequestKind
from ..service import FULFILMENT_JOBS
from .base import account_of, finish, load_request, refusals, tell_integrations


@job_handler(FULFILMENT_JOBS[RequestKind.rectification])
def rectify(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Apply the request's changes to the subject's account; before and after on the request."""
    request = load_request(session, ctx)
    schema = AccountUpdateSchema()
    try:
        changes: dict[str, Any] = schema.load(request.scope.get("changes") or {})
    except ma.ValidationError as invalid:
        raise JobFailed(
            f"the requested changes are no longer valid: {invalid.messages}", retry=False
        ) from None
    if not changes:
        raise JobFailed("the request names no changes", retry=False)
    account_id = account_of(request)
    # One step: the change, the request's record of it and the result commit together.
    with refusals():
        account = get_account(session, account_id=account_id)
        before = schema.dump({field: getattr(account, field) for field in changes})
        update_account(session, ctx.request, account_id=account_id, if_match=ANY, changes=changes)
    after = schema.dump({field: getattr(account, field) for field in changes})
    changed = sorted(field for field in changes if before.get(field) != after.get(field))
    stored = finish(
        session,
        ctx,
        request,
        action=RequestAction.Rectify,
        event="rectified",
        result={"fields": sorted(changes), "changed": changed, "before": before, "after": after},
        note={"fields": changed, "before": before, "after": after},
        audit={"fields": sorted(changes), "changed": changed},
    )
    tell_integrations(session, request, WebhookEventType.DsrRectified, fields=changed)
    ctx.progress(1, 1)
    # The job's result names the fields; the values stay on the request.
    return {k: stored[k] for k in ("job_id", "completed_at", "fields", "changed")} | {
        "request_id": str(request.id)
    }
