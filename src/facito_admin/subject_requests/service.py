"""The organisation's queue of data-subject requests: intake, routing, handling, decisions.

Every change locks the request row, applies handling.py (status, clock, timeline), records
one audit event on the organisation's chain and publishes the matching webhook, in the
request's transaction. The subject reads their own requests through /v1/me.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import LIVE, Account
from ..accounts.service import account_of_principal
from ..audit.service import record_event
from ..auth.context import PrincipalKind, RequestContext
from ..common.pagination import Page, paginate
from ..consents.models import GuardianConsent
from ..db.base import utcnow
from ..db.tenancy import require_organisation
from ..errors import NotFound, ValidationFailed
from ..jobs import Job, enqueue_job
from ..jobs.registry import handler_for
from ..policies.effective.service import contract_in_force, effective_policy
from ..user_data.models import DataRecord
from ..webhooks.events import WebhookEventType, publish_event
from . import facito_service, handling, queue_handling, routing
from .actions import RequestAction
from .filters import RequestFilter, filtered
from .handling import Filed, StatusNotAllowed
from .models import (
    OPEN_STATUSES,
    UNVERIFIED_CHANNELS,
    Channel,
    Queue,
    RequesterKind,
    RequestKind,
    RequestStatus,
    SubjectRequest,
)
from .queue_handling import Recorder, fulfilment_under_way

# Filed and RequestFilter moved to handling.py and filters.py (both queues use them); still
# importable from here, where callers first found them.
__all__ = ["FULFILMENT_JOBS", "Filed", "RequestFilter"]

# Request kind → the job that fulfils it (fulfilment/*.py registers each handler).
FULFILMENT_JOBS: dict[RequestKind, str] = {
    RequestKind.access: "dsr-export",
    RequestKind.portability: "dsr-export",
    RequestKind.erasure: "dsr-erasure",
    RequestKind.rectification: "dsr-rectification",
    RequestKind.restriction: "dsr-restriction",
    RequestKind.objection: "dsr-preferences",
    RequestKind.consent_withdrawal: "dsr-preferences",
}


def webhook_data(request: SubjectRequest) -> dict[str, Any]:
    """What a webhook says of a request: ids, kind, status and dates (no description)."""
    return {
        "request_id": str(request.id),
        "reference": request.reference,
        "kind": request.kind.value,
        "status": request.status.value,
        "account_id": None
        if request.subject_account_id is None
        else str(request.subject_account_id),
        "received_at": request.received_at.isoformat(),
        "due_at": request.due_at.isoformat(),
    }


def _publish(
    session: Session, request: SubjectRequest, event: WebhookEventType, extra: dict[str, Any]
) -> None:
    publish_event(
        session,
        organisation_id=request.organisation_id,
        event_type=event,
        data=webhook_data(request) | extra,
    )


# The organisation's chain and webhooks (queue_handling.py).
RECORDER = Recorder(SubjectRequest, record_event, RequestAction, _publish)


# --- intake ---------------------------------------------------------------------------


def _identity(account: Account) -> dict[str, Any]:
    return {
        "display_name": account.display_name,
        "user_principal_name": account.user_principal_name,
        "email": account.email,
    }


def _subject_for_routing(
    session: Session, account: Account, at: datetime, scope: dict[str, Any]
) -> routing.Subject:
    contract = contract_in_force(session, at=at)
    query = select(DataRecord.product, DataRecord.category).where(
        DataRecord.account_id == account.id, DataRecord.deleted_at.is_(None)
    )
    # A request limited to some categories or products spans only their data: one about the
    # organisation's data alone is not split because Facito holds other data of the subject.
    if scope.get("categories"):
        query = query.where(DataRecord.category.in_(scope["categories"]))
    if scope.get("products"):
        query = query.where(DataRecord.product.in_(scope["products"]))
    data = session.execute(query.distinct()).all()
    return routing.Subject(
        organisation_managed=True,
        product_roles=dict(contract.products) if contract else {},
        data=frozenset((product, category) for product, category in data),
        contract_reference=contract.reference if contract else None,
    )


def _open_duplicate(
    session: Session, *, account_id: uuid.UUID, kind: RequestKind
) -> SubjectRequest | None:
    return session.scalars(
        select(SubjectRequest)
        .where(
            SubjectRequest.subject_account_id == account_id,
            SubjectRequest.kind == kind,
            SubjectRequest.status.in_(OPEN_STATUSES),
        )
        .order_by(SubjectRequest.id)
        .limit(1)
        .with_for_update()
    ).first()


def _check_guardian(
    session: Session, account: Account, guardian_consent_id: uuid.UUID | None
) -> None:
    if guardian_consent_id is None:
        raise ValidationFailed(
            "a guardian's request rests on the guardian's recorded consent",
            errors={"guardian_consent_id": ["Required when the requester is a guardian."]},
        )
    consent = session.get(GuardianConsent, (account.organisation_id, guardian_consent_id))
    if consent is None or consent.account_id != account.id or consent.revoked_at is not None:
        raise ValidationFailed(
            "no guardian consent in force for this account with that id",
            errors={"guardian_consent_id": ["No guardian consent in force for the account."]},
        )
    if not account.minor_now:
        raise ValidationFailed(
            "the account is not a minor's: the subject files their own requests",
            errors={"requester": ["A guardian files only for a minor."]},
        )


def _lock_live_account(session: Session, account_id: uuid.UUID) -> Account | None:
    # Every filing locks its subject's account first: two filings of the same kind at once
    # then see each other's request (_open_duplicate) instead of both creating one.
    return session.scalar(
        select(Account)
        .where(Account.id == account_id, LIVE)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _file(
    session: Session,
    ctx: RequestContext,
    *,
    account: Account,
    kind: RequestKind,
    description: str,
    scope: dict[str, Any],
    channel: Channel,
    requester_kind: RequesterKind,
    guardian_consent_id: uuid.UUID | None,
    verified: bool,
) -> Filed[SubjectRequest]:
    existing = _open_duplicate(session, account_id=account.id, kind=kind)
    if existing is not None:
        handling.filed_again(
            existing, ctx, requester_kind=requester_kind, channel=channel, description=description
        )
        session.flush()
        RECORDER.record(session, ctx, existing, RequestAction.Link, channel=channel.value)
        return Filed(existing, created=False)

    now = utcnow()
    # The organisation's effective policy: a contract may shorten the statement's days.
    clock = handling.start_clock(effective_policy(session, at=now).value, received_at=now)
    parts = routing.route(kind, _subject_for_routing(session, account, now, scope))
    mine = parts[0]
    request = SubjectRequest(
        reference=handling.new_reference(),
        kind=kind,
        status=RequestStatus.received,
        subject_account_id=account.id,
        subject_identity=_identity(account),
        requester_kind=requester_kind,
        requester_id=ctx.principal.client_key[:200],
        requester_display=ctx.principal.display_name[:200],
        guardian_consent_id=guardian_consent_id,
        channel=channel,
        description=description,
        scope=scope,
        received_at=now,
        routing=mine.as_record() | {"parts": [p.queue.value for p in parts]},
        job_ids=[],
        results={},
        timeline=[],
    )
    handling.set_clock(request, clock)
    handling.note(
        request,
        ctx,
        "received",
        requester_kind=requester_kind.value,
        channel=channel.value,
        due_at=clock.due_at.isoformat(),
        response_days=clock.response_days,
    )
    session.add(request)
    session.flush()
    if len(parts) > 1:
        # Facito's chain (the DPO part's filing) before the organisation's: one lock order.
        twin = facito_service.file_linked_part(session, ctx, request, parts[1], verified=verified)
        request.linked_request_id = twin.id
        handling.note(request, ctx, "split", linked_request_id=str(twin.id), reason=parts[1].reason)
    handling.admit(request, ctx, verified=verified, reason=mine.reason)
    session.flush()
    RECORDER.record(
        session,
        ctx,
        request,
        RequestAction.File,
        account_id=str(account.id),
        channel=channel.value,
        requester_kind=requester_kind.value,
        routing=mine.rule,
        linked_request_id=None
        if request.linked_request_id is None
        else str(request.linked_request_id),
        due_at=request.due_at.isoformat(),
    )
    if request.status is RequestStatus.routed:
        RECORDER.tell(session, request, WebhookEventType.DsrReceived)
    return Filed(request, created=True)


def file_request(
    session: Session,
    ctx: RequestContext,
    *,
    account_id: uuid.UUID,
    kind: RequestKind,
    description: str,
    scope: dict[str, Any],
    channel: Channel,
    on_behalf_of: RequesterKind | None,
    guardian_consent_id: uuid.UUID | None,
) -> Filed[SubjectRequest]:
    """File a request for an account of the organisation (an administrator, a privacy
    officer or an integration, from what reached them by ``channel``)."""
    account = _lock_live_account(session, account_id)
    if account is None:
        # Another organisation's account answers like a made-up one (tenant-scoped read).
        raise ValidationFailed("no such account", errors={"account_id": ["No such account."]})
    if ctx.principal.kind is PrincipalKind.organisation_app:
        requester = RequesterKind.integration
    else:
        requester = on_behalf_of or RequesterKind.administrator
    if requester not in (
        RequesterKind.administrator,
        RequesterKind.guardian,
        RequesterKind.integration,
    ) or (requester is RequesterKind.integration) != (
        ctx.principal.kind is PrincipalKind.organisation_app
    ):
        raise ValidationFailed(
            "the organisation files as its administrator, for a guardian, or as an integration",
            errors={"on_behalf_of": ["Must be administrator or guardian."]},
        )
    if requester is RequesterKind.guardian:
        _check_guardian(session, account, guardian_consent_id)
    elif guardian_consent_id is not None:
        raise ValidationFailed(
            "a guardian consent is named only for a guardian's request",
            errors={"guardian_consent_id": ["Only with on_behalf_of guardian."]},
        )
    return _file(
        session,
        ctx,
        account=account,
        kind=kind,
        description=description,
        scope=handling.check_scope(kind, scope),
        channel=channel,
        requester_kind=requester,
        guardian_consent_id=guardian_consent_id,
        verified=channel not in UNVERIFIED_CHANNELS,
    )


def file_own_request(
    session: Session,
    ctx: RequestContext,
    *,
    kind: RequestKind,
    description: str,
    scope: dict[str, Any],
) -> Filed[SubjectRequest]:
    """File a request about yourself (your token proves who you are)."""
    account = _lock_live_account(session, account_of_principal(session, ctx.principal).id)
    if account is None:  # deleted since it was read
        raise NotFound("no account of yours in this organisation")
    return _file(
        session,
        ctx,
        account=account,
        kind=kind,
        description=description,
        scope=handling.check_scope(kind, scope),
        channel=Channel.api,
        requester_kind=RequesterKind.subject,
        guardian_consent_id=None,
        verified=True,
    )


# --- reading ---------------------------------------------------------------------------


def list_requests(
    session: Session, *, where: RequestFilter, limit: int, cursor: str | None
) -> Page[SubjectRequest]:
    """The organisation's queue, newest first, filtered."""
    return paginate(
        session,
        filtered(select(SubjectRequest), SubjectRequest, where, now=utcnow()),
        keys=[SubjectRequest.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def get_request(session: Session, *, request_id: uuid.UUID) -> SubjectRequest:
    """One request of the organisation's queue, or 404."""
    found = session.get(SubjectRequest, (require_organisation(session), request_id))
    if found is None:
        raise NotFound("no such data-subject request")
    return found


def lock_request(session: Session, *, request_id: uuid.UUID) -> SubjectRequest:
    """One request, locked for a change (fresh from the database), or 404."""
    found = session.scalars(
        select(SubjectRequest)
        .where(SubjectRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise NotFound("no such data-subject request")
    return found


def _own_account_id(session: Session, ctx: RequestContext) -> uuid.UUID:
    # A subject whose account was erased (soft-deleted, not yet purged) still follows their
    # requests and reads the outcome; filing a new one needs a live account (file_own_request).
    return account_of_principal(session, ctx.principal, include_deleted=True).id


def list_own_requests(
    session: Session, ctx: RequestContext, *, limit: int, cursor: str | None
) -> Page[SubjectRequest]:
    """The caller's own requests, newest first."""
    where = RequestFilter(account_id=_own_account_id(session, ctx))
    return list_requests(session, where=where, limit=limit, cursor=cursor)


def _own(
    session: Session, ctx: RequestContext, request_id: uuid.UUID, *, lock: bool
) -> SubjectRequest:
    account_id = _own_account_id(session, ctx)
    request = (
        lock_request(session, request_id=request_id)
        if lock
        else get_request(session, request_id=request_id)
    )
    # Somebody else's request answers exactly like one that does not exist.
    if request.subject_account_id != account_id:
        raise NotFound("no such data-subject request")
    return request


def get_own_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID
) -> SubjectRequest:
    """One of the caller's own requests, or 404."""
    return _own(session, ctx, request_id, lock=False)


# --- handling ------------------------------------------------------------------------


def verify_request(
    session: Session,
    ctx: RequestContext,
    *,
    request_id: uuid.UUID,
    method: str,
    note: str | None,
) -> SubjectRequest:
    """Record that the subject's identity was verified: the request is routed."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.verify(RECORDER, session, ctx, request, method=method, note=note)


def assign_request(
    session: Session,
    ctx: RequestContext,
    *,
    request_id: uuid.UUID,
    assignee_object_id: str | None,
    assignee_name: str | None,
) -> SubjectRequest:
    """Give the request to a handler of the organisation (the caller when none is named)."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.assign(
        RECORDER,
        session,
        ctx,
        request,
        assignee_object_id=assignee_object_id,
        assignee_name=assignee_name,
    )


def extend_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, days: int, reason: str
) -> SubjectRequest:
    """Extend the response time (once or more, within the policy's maximum, before due)."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.extend(RECORDER, session, ctx, request, days=days, reason=reason)


def await_subject(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, message: str
) -> SubjectRequest:
    """Ask the subject for something; the clock stops until they answer."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.await_subject(RECORDER, session, ctx, request, message=message)


def resume_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, message: str | None
) -> SubjectRequest:
    """Go on with a request that awaited the subject; the clock runs again."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.resume(RECORDER, session, ctx, request, message=message)


def answer_own_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, message: str
) -> SubjectRequest:
    """The subject answers what their request awaited; the clock runs again."""
    request = _own(session, ctx, request_id, lock=True)
    return queue_handling.resume(RECORDER, session, ctx, request, message=message)


def start_fulfilment(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID
) -> tuple[SubjectRequest, Job]:
    """Start the job that carries the request out (export, erasure, …); follow the job."""
    request = lock_request(session, request_id=request_id)
    kind = FULFILMENT_JOBS.get(request.kind)
    if kind is None or handler_for(kind) is None:
        raise StatusNotAllowed(
            f"a {request.kind.value} is answered, not fulfilled: complete it with a summary"
        )
    if request.status not in (RequestStatus.routed, RequestStatus.in_progress):
        raise StatusNotAllowed(
            f"a request that is {request.status.value} cannot be fulfilled",
            extra={"request_status": request.status.value},
        )
    if fulfilment_under_way(session, request) is not None:
        raise StatusNotAllowed("the request's fulfilment is already queued or running")
    job = enqueue_job(session, ctx, kind=kind, params={"request_id": str(request.id)})
    request.job_ids = [*request.job_ids, str(job.id)]
    handling.start(request, ctx, "fulfilment_started", job_id=str(job.id), job_kind=kind)
    session.flush()
    RECORDER.record(session, ctx, request, RequestAction.Fulfil, job_id=str(job.id))
    return request, job


def complete_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, summary: str
) -> SubjectRequest:
    """Answer the request as done, with a summary the subject reads."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.complete(RECORDER, session, ctx, request, summary=summary)


def reject_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, reasons: list[str]
) -> SubjectRequest:
    """Refuse the request with reasons; the answer names the right to complain."""
    request = lock_request(session, request_id=request_id)
    return queue_handling.reject(RECORDER, session, ctx, request, reasons=reasons)


def cancel_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, reason: str | None
) -> SubjectRequest:
    """Cancel a request filed by mistake or withdrawn by the subject through someone (with
    its part in the DPO queue, if split and still open)."""
    request = lock_request(session, request_id=request_id)
    return _cancel(session, ctx, request, reason)


def cancel_own_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, reason: str | None
) -> SubjectRequest:
    """Withdraw one of your own requests."""
    return _cancel(session, ctx, _own(session, ctx, request_id, lock=True), reason)


def _cancel(
    session: Session, ctx: RequestContext, request: SubjectRequest, reason: str | None
) -> SubjectRequest:
    if fulfilment_under_way(session, request) is not None:
        raise StatusNotAllowed("the request's fulfilment is queued or running: cancel its job")
    linked = request.linked_request_id
    handling.cancel(
        request, ctx, reason=reason, linked_request_id=None if linked is None else str(linked)
    )
    if linked is not None:
        # The subject filed one request: withdrawn, it is withdrawn from both controllers.
        # Facito's chain before the organisation's (one lock order).
        facito_service.cancel_linked_part(session, ctx, request, reason=reason)
    session.flush()
    RECORDER.record(session, ctx, request, RequestAction.Cancel)
    RECORDER.tell(session, request, WebhookEventType.DsrCancelled)
    return request


# --- deadlines -----------------------------------------------------------------------


def warn_of_deadlines(
    session: Session, ctx: RequestContext, *, now: datetime, days_before: int
) -> int:
    """Tell the organisation's systems of its requests due soon and overdue (`dsr.due_soon`,
    `dsr.overdue`), each once per request; how many notices."""
    return queue_handling.warn_of_deadlines(
        RECORDER, session, ctx, now=now, days_before=days_before
    )


QUEUE = Queue.organisation
