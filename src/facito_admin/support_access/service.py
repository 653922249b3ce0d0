"""Requesting, deciding, revoking and closing support access (Customer Lockbox style).

A request names one organisation, a justification, a ticket, a scope (read-only, or
read-write on named resource kinds) and a duration within the effective
`support_access.max_hours`. Where the effective `support_access.approval_required` is false it
starts at once; otherwise the organisation's administrators approve or deny it before it expires
unanswered (FACITO_SUPPORT_REQUEST_HOURS, 12 by default). A grant ends by itself, and the
organisation can revoke it, the requester give it up, at any time. Every step is an event on the
organisation's chain and a webhook to its endpoints.

Rows are global (models.py); every read in an organisation's name filters on the session's
organisation, and every change locks its row first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..auth.permissions import CONTENT_KIND, WRITABLE_KINDS, GrantAccess
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..db.session import bind_organisation
from ..db.tenancy import require_organisation
from ..errors import InvalidState, NotFound, ValidationFailed
from ..policies.effective.service import effective_policy
from ..tenants.models import Organisation, OrganisationStatus
from ..webhooks.events import WebhookEventType, publish_event
from .actions import SupportAccessAction
from .models import SupportAccessRequest, SupportAccessStatus

MAX_HOURS_KEY = "support_access.max_hours"
APPROVAL_REQUIRED_KEY = "support_access.approval_required"
_S = SupportAccessStatus


class SupportAccessOpen(InvalidState):
    code, title = "support-access-open", "You already have an open request for this organisation"


class SupportAccessTooLong(ValidationFailed):
    code, title = "support-access-too-long", "Longer than the organisation's policy allows"


class SupportAccessStatusConflict(InvalidState):
    code, title = "support-access-status-conflict", "The request's status does not allow this"


def current_status(row: SupportAccessRequest, now: datetime) -> SupportAccessStatus:
    """The status at ``now``: a pending request past its expiry has expired, a grant past its
    end has ended, even before the expiry job writes so."""
    if row.status is _S.pending and now >= row.expires_at:
        return _S.expired
    if row.status is _S.active and row.ends_at is not None and now >= row.ends_at:
        return _S.ended
    return row.status


def status_condition(status: SupportAccessStatus, now: datetime) -> ColumnElement[bool]:
    """SQL for "the current status is ``status``" (current_status, as a filter)."""
    r = SupportAccessRequest
    if status is _S.pending:
        return and_(r.status == _S.pending, r.expires_at > now)
    if status is _S.expired:
        return or_(r.status == _S.expired, and_(r.status == _S.pending, r.expires_at <= now))
    if status is _S.active:
        return and_(r.status == _S.active, r.ends_at > now)
    if status is _S.ended:
        return or_(r.status == _S.ended, and_(r.status == _S.active, r.ends_at <= now))
    return r.status == status


def _open(now: datetime) -> ColumnElement[bool]:
    return or_(status_condition(_S.pending, now), status_condition(_S.active, now))


def _actor(ctx: RequestContext) -> tuple[str, str]:
    principal = ctx.principal
    return principal.client_key[:200], principal.display_name[:200]


def webhook_data(row: SupportAccessRequest, now: datetime) -> dict[str, Any]:
    """What an organisation's endpoints hear about a request (no one's personal data)."""
    return {
        "support_access_request_id": str(row.id),
        "status": current_status(row, now).value,
        "requester": row.requester_display,
        "ticket_reference": row.ticket_reference,
        "justification": row.justification,
        "access": row.access.value,
        "resource_kinds": list(row.resource_kinds),
        "duration_hours": row.duration_hours,
        "expires_at": _instant(row.expires_at),
        "starts_at": _instant(row.starts_at),
        "ends_at": _instant(row.ends_at),
    }


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _record(
    session: Session,
    ctx: RequestContext,
    row: SupportAccessRequest,
    action: SupportAccessAction,
    event: WebhookEventType,
    *,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    data = webhook_data(row, now)
    record_event(
        session,
        ctx,
        action=action,
        target_type="support_access_request",
        target_id=row.id,
        details={k: v for k, v in data.items() if k != "support_access_request_id"}
        | (details or {}),
    )
    publish_event(session, organisation_id=row.organisation_id, event_type=event, data=data)


def check_scope(access: GrantAccess, kinds: Iterable[str]) -> list[str]:
    """The resource kinds of a valid scope, sorted; 422 for a scope that cannot be granted."""
    named = sorted(set(kinds))
    writable = [kind for kind in named if kind in WRITABLE_KINDS]
    if access is GrantAccess.ReadOnly and writable:
        raise ValidationFailed(
            "a read-only grant changes nothing: name kinds to change with read-write access",
            errors={"resource_kinds": [f"Read-only access names no kind to change: {writable}."]},
        )
    if access is GrantAccess.ReadWrite and not writable:
        raise ValidationFailed(
            "name the kinds of resources read-write access may change",
            errors={"resource_kinds": [f"Name at least one of {sorted(WRITABLE_KINDS)}."]},
        )
    unknown = [kind for kind in named if kind not in WRITABLE_KINDS and kind != CONTENT_KIND]
    if unknown:
        raise ValidationFailed(
            "not a kind of resource a grant covers",
            errors={"resource_kinds": [f"Not grantable: {unknown}."]},
        )
    return named


def _lock_organisation(session: Session, organisation_id: uuid.UUID) -> Organisation:
    # Locks the organisation: two requests of one requester at once cannot both be open.
    organisation = session.scalars(
        select(Organisation).where(Organisation.id == organisation_id).with_for_update()
    ).first()
    if organisation is None:
        raise ValidationFailed(
            "no such organisation", errors={"organisation_id": ["No such organisation."]}
        )
    return organisation


def _policy(session: Session) -> tuple[int, bool]:
    policy = effective_policy(session)
    max_hours = policy.value(MAX_HOURS_KEY)
    approval = policy.value(APPROVAL_REQUIRED_KEY)
    # The statement seeds both (migration 0006); without one, the strictest reading.
    hours = max_hours if isinstance(max_hours, int) and not isinstance(max_hours, bool) else 0
    return hours, approval is not False


def _start(row: SupportAccessRequest, now: datetime, hours: int) -> None:
    row.status = _S.active
    row.starts_at = now
    row.ends_at = now + timedelta(hours=hours)


def request_access(
    session: Session,
    ctx: RequestContext,
    *,
    organisation_id: uuid.UUID,
    justification: str,
    ticket_reference: str,
    access: GrantAccess,
    resource_kinds: list[str],
    duration_hours: int,
    request_hours: int,
) -> SupportAccessRequest:
    """Ask one organisation for access; started at once where its policy needs no approval."""
    kinds = check_scope(access, resource_kinds)
    organisation = _lock_organisation(session, organisation_id)
    if organisation.status is OrganisationStatus.offboarded:
        raise InvalidState("an offboarded organisation takes no support access")
    bind_organisation(session, organisation_id)
    max_hours, approval_required = _policy(session)
    if duration_hours > max_hours:
        raise SupportAccessTooLong(
            f"the organisation's policy allows at most {max_hours} hours",
            errors={"duration_hours": [f"At most {max_hours} (support_access.max_hours)."]},
        )
    now = utcnow()
    tenant_id, object_id = ctx.principal.tenant_id, ctx.principal.object_id
    already = session.scalars(
        select(SupportAccessRequest.id).where(
            SupportAccessRequest.organisation_id == organisation_id,
            SupportAccessRequest.requester_tenant_id == tenant_id,
            SupportAccessRequest.requester_object_id == object_id,
            _open(now),
        )
    ).first()
    if already is not None:
        raise SupportAccessOpen(
            "you have an open request or grant for this organisation: release it first",
            extra={"support_access_request_id": str(already)},
        )
    row = SupportAccessRequest(
        organisation_id=organisation_id,
        requester_tenant_id=tenant_id,
        requester_object_id=object_id,
        requester_display=ctx.principal.display_name[:200],
        justification=justification,
        ticket_reference=ticket_reference,
        access=access,
        resource_kinds=kinds,
        duration_hours=duration_hours,
        status=_S.pending,
        approval_required=approval_required,
        requested_at=now,
        expires_at=now + timedelta(hours=request_hours),
    )
    session.add(row)
    session.flush()
    _record(
        session,
        ctx,
        row,
        SupportAccessAction.Request,
        WebhookEventType.SupportAccessRequested,
        now=now,
    )
    if not approval_required:
        _start(row, now, duration_hours)
        row.decided_at = now
        row.decision_reason = "support_access.approval_required is false"
        session.flush()
        _record(
            session,
            ctx,
            row,
            SupportAccessAction.Start,
            WebhookEventType.SupportAccessStarted,
            now=now,
        )
    return row


def _requester_filter(ctx: RequestContext) -> ColumnElement[bool]:
    return and_(
        SupportAccessRequest.requester_tenant_id == ctx.principal.tenant_id,
        SupportAccessRequest.requester_object_id == ctx.principal.object_id,
    )


def list_own_requests(
    session: Session,
    ctx: RequestContext,
    *,
    organisation_id: uuid.UUID | None,
    status: SupportAccessStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[SupportAccessRequest]:
    """The caller's own requests and grants, newest first."""
    query = select(SupportAccessRequest).where(_requester_filter(ctx))
    if organisation_id is not None:
        query = query.where(SupportAccessRequest.organisation_id == organisation_id)
    if status is not None:
        query = query.where(status_condition(status, utcnow()))
    return paginate(
        session,
        query,
        keys=[SupportAccessRequest.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def get_own_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID
) -> SupportAccessRequest:
    """One of the caller's own requests; anyone else's does not exist for them."""
    row = session.scalars(
        select(SupportAccessRequest).where(
            SupportAccessRequest.id == request_id, _requester_filter(ctx)
        )
    ).first()
    if row is None:
        raise NotFound("no such support access request")
    return row


def list_requests(
    session: Session, *, status: SupportAccessStatus | None, limit: int, cursor: str | None
) -> Page[SupportAccessRequest]:
    """The organisation's support access requests and grants, newest first."""
    query = select(SupportAccessRequest).where(
        SupportAccessRequest.organisation_id == require_organisation(session)
    )
    if status is not None:
        query = query.where(status_condition(status, utcnow()))
    return paginate(
        session,
        query,
        keys=[SupportAccessRequest.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def get_request(session: Session, *, request_id: uuid.UUID) -> SupportAccessRequest:
    """One of the organisation's support access requests, or 404."""
    row = session.scalars(
        select(SupportAccessRequest).where(
            SupportAccessRequest.id == request_id,
            SupportAccessRequest.organisation_id == require_organisation(session),
        )
    ).first()
    if row is None:
        raise NotFound("no such support access request")
    return row


def _locked(session: Session, request_id: uuid.UUID) -> SupportAccessRequest:
    row = session.scalars(
        select(SupportAccessRequest)
        .where(
            SupportAccessRequest.id == request_id,
            SupportAccessRequest.organisation_id == require_organisation(session),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("no such support access request")
    return row


def _expect(row: SupportAccessRequest, now: datetime, *allowed: SupportAccessStatus) -> None:
    status = current_status(row, now)
    if status not in allowed:
        raise SupportAccessStatusConflict(
            f"the request is {status.value}", extra={"status": status.value}
        )


def _decide(
    row: SupportAccessRequest, ctx: RequestContext, now: datetime, reason: str | None
) -> None:
    row.decided_at = now
    row.decided_by_id, row.decided_by_display = _actor(ctx)
    row.decision_reason = reason


def approve_request(
    session: Session,
    ctx: RequestContext,
    *,
    request_id: uuid.UUID,
    duration_hours: int | None,
    reason: str | None,
) -> SupportAccessRequest:
    """Approve a pending request: the grant starts now, for its hours or fewer."""
    row = _locked(session, request_id)
    now = utcnow()
    _expect(row, now, _S.pending)
    hours = row.duration_hours if duration_hours is None else duration_hours
    if hours > row.duration_hours:
        raise ValidationFailed(
            "an approval may shorten the grant, not lengthen it",
            errors={"duration_hours": [f"At most the {row.duration_hours} hours requested."]},
        )
    _start(row, now, hours)
    row.duration_hours = hours
    _decide(row, ctx, now, reason)
    session.flush()
    _record(
        session,
        ctx,
        row,
        SupportAccessAction.Approve,
        WebhookEventType.SupportAccessStarted,
        now=now,
        details={"reason": reason},
    )
    return row


def deny_request(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, reason: str
) -> SupportAccessRequest:
    """Deny a pending request, saying why."""
    row = _locked(session, request_id)
    now = utcnow()
    _expect(row, now, _S.pending)
    row.status = _S.denied
    _decide(row, ctx, now, reason)
    session.flush()
    _record(
        session,
        ctx,
        row,
        SupportAccessAction.Deny,
        WebhookEventType.SupportAccessDenied,
        now=now,
        details={"reason": reason},
    )
    return row


def _close(
    row: SupportAccessRequest,
    status: SupportAccessStatus,
    *,
    at: datetime,
    by: tuple[str | None, str | None],
    reason: str | None,
) -> None:
    row.status = status
    row.closed_at = at
    row.closed_by_id, row.closed_by_display = by
    row.close_reason = reason


def revoke_grant(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, reason: str
) -> SupportAccessRequest:
    """End a grant now (the organisation's call); the next request of its holder gets 404."""
    row = _locked(session, request_id)
    now = utcnow()
    _expect(row, now, _S.active)
    _close(row, _S.revoked, at=now, by=_actor(ctx), reason=reason)
    session.flush()
    _record(
        session,
        ctx,
        row,
        SupportAccessAction.Revoke,
        WebhookEventType.SupportAccessRevoked,
        now=now,
        details={"reason": reason},
    )
    return row


def release_own(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID, reason: str | None
) -> SupportAccessRequest:
    """Withdraw one's pending request, or give up one's grant before its end."""
    found = get_own_request(session, ctx, request_id=request_id)
    bind_organisation(session, found.organisation_id)
    row = _locked(session, request_id)
    now = utcnow()
    _expect(row, now, _S.pending, _S.active)
    was_active = row.status is _S.active
    _close(row, _S.released, at=now, by=_actor(ctx), reason=reason)
    session.flush()
    _record(
        session,
        ctx,
        row,
        SupportAccessAction.Release,
        WebhookEventType.SupportAccessEnded
        if was_active
        else WebhookEventType.SupportAccessWithdrawn,
        now=now,
        details={"reason": reason},
    )
    return row


def lapsed_filter(now: datetime) -> ColumnElement[bool]:
    """Rows whose stored status is behind their current one (the expiry job's work)."""
    r = SupportAccessRequest
    return or_(
        and_(r.status == _S.pending, r.expires_at <= now),
        and_(r.status == _S.active, r.ends_at <= now),
    )


def close_lapsed(session: Session, ctx: RequestContext, *, now: datetime) -> int:
    """Write down the expiries and ends that time brought in the session's organisation."""
    rows = session.scalars(
        select(SupportAccessRequest)
        .where(
            SupportAccessRequest.organisation_id == require_organisation(session),
            lapsed_filter(now),
        )
        .order_by(SupportAccessRequest.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for row in rows:
        if row.status is _S.pending:
            _close(row, _S.expired, at=row.expires_at, by=(None, None), reason="unanswered")
            action, event = SupportAccessAction.Expire, WebhookEventType.SupportAccessExpired
        else:
            _close(row, _S.ended, at=row.ends_at or now, by=(None, None), reason="elapsed")
            action, event = SupportAccessAction.End, WebhookEventType.SupportAccessEnded
        session.flush()
        _record(session, ctx, row, action, event, now=now)
    return len(rows)
