"""What handling does to a request of either queue: status, clock and timeline together.

Each function changes one locked row (the caller fetched it FOR UPDATE) and appends the
matching timeline entry; the caller records the audit event and publishes the webhook, which
differ by queue (the organisation's chain and webhooks, or Facito's own chain):
queue_handling.py does both for either queue, in that order.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from ..auth.context import Principal, RequestContext
from ..db.base import utcnow
from ..errors import InvalidState, ValidationFailed
from . import deadlines, lifecycle
from .models import Channel, RequestColumns, RequesterKind, RequestKind, RequestStatus

R = TypeVar("R", bound=RequestColumns)

# Both queues' audit events name the request thus (the organisation's chain, Facito's own).
TARGET_TYPE = "data_subject_request"

# The supervisory authority a rejected subject may complain to (GDPR art. 77; the statement
# names it), returned with every rejection.
SUPERVISORY_AUTHORITY = {
    "name": "Autoriteit Persoonsgegevens",
    "url": "https://autoriteitpersoonsgegevens.nl",
    "right": "You may lodge a complaint with the supervisory authority (GDPR art. 77) and seek "
    "a judicial remedy (art. 79).",
}

# Crockford's base32 without look-alikes: a reference read out on the phone.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class DeadlineNotice(StrEnum):
    """What the deadline scan tells a request's handlers (each once per request, see
    deadlines.due_soon_notice_due for when a moved due time earns a second warning)."""

    due_soon = "due_soon"
    overdue = "overdue"


class StatusNotAllowed(InvalidState):
    code, title = "dsr-status-conflict", "The request's status does not allow this"


class ExtensionNotAllowed(InvalidState):
    code, title = "dsr-extension-refused", "The extension is not allowed"


@dataclass(frozen=True)
class Filed(Generic[R]):
    """A filing's outcome: the request, and whether it is new or an open one it joined."""

    request: R
    created: bool


def new_reference() -> str:
    """A short reference for calls and letters: DSR- and 8 characters (40 random bits)."""
    return "DSR-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def actor(ctx: RequestContext) -> dict[str, str]:
    """Who acted, as a timeline entry names them."""
    principal = ctx.principal
    return {"kind": principal.kind.value, "display": principal.display_name[:200]}


def audit_details(request: RequestColumns, **details: Any) -> dict[str, Any]:
    """What an audit event says of a request: its reference and kind, then ``details`` (ids,
    counts and dates only: never the description, a message or a reason)."""
    return {"reference": request.reference, "kind": request.kind.value, **details}


def note(
    request: RequestColumns, ctx: RequestContext, event: str, **details: Any
) -> dict[str, Any]:
    """Append one timeline entry (a new list: JSON columns track reassignment, not appends)."""
    entry = {
        "at": utcnow().isoformat(),
        "event": event,
        "status": request.status.value,
        "actor": actor(ctx),
        "details": {k: v for k, v in details.items() if v is not None},
    }
    request.timeline = [*request.timeline, entry]
    return entry


def move(
    request: RequestColumns,
    target: RequestStatus,
    ctx: RequestContext,
    event: str,
    **details: Any,
) -> None:
    """Change the status to ``target`` (or 409 naming what is allowed) and note it."""
    if not lifecycle.can_move(request.status, target):
        allowed = sorted(s.value for s in lifecycle.TRANSITIONS[request.status])
        # `request_status`: a problem's own `status` is the HTTP one (RFC 9457).
        raise StatusNotAllowed(
            f"a request that is {request.status.value} cannot become {target.value}",
            extra={"request_status": request.status.value, "allowed": allowed},
        )
    request.status = target
    note(request, ctx, event, **details)


def clock_of(request: RequestColumns) -> deadlines.Clock:
    """The request's clock as the pure module sees it."""
    return deadlines.Clock(
        received_at=request.received_at,
        response_days=request.response_days,
        max_extension_days=request.max_extension_days,
        extension_days=request.extension_days,
        paused_seconds=request.paused_seconds,
        awaiting_since=request.awaiting_since,
    )


def set_clock(request: RequestColumns, clock: deadlines.Clock) -> None:
    """Store a clock on the request (due times included, so that filters are plain SQL)."""
    request.response_days = clock.response_days
    request.max_extension_days = clock.max_extension_days
    request.extension_days = clock.extension_days
    request.paused_seconds = clock.paused_seconds
    request.awaiting_since = clock.awaiting_since
    request.original_due_at = clock.original_due_at
    request.due_at = clock.due_at


def is_overdue(request: RequestColumns, *, now: datetime | None = None) -> bool:
    """Open and past due (paused requests are not)."""
    return lifecycle.is_open(request.status) and deadlines.is_overdue(
        clock_of(request), now=now or utcnow()
    )


def check_scope(kind: RequestKind, scope: dict[str, Any]) -> dict[str, Any]:
    """The scope a kind takes, or 422 (the schema checked the shapes)."""
    if kind is RequestKind.rectification and not scope.get("changes"):
        raise ValidationFailed(
            "a rectification names the changes it asks for",
            errors={"scope.changes": ["Required for a rectification."]},
        )
    if kind is not RequestKind.rectification and scope.get("changes"):
        raise ValidationFailed(
            "only a rectification names changes",
            errors={"scope.changes": ["Only for a rectification."]},
        )
    return {k: v for k, v in scope.items() if v}


def start_clock(policy_value: Callable[[str], object], *, received_at: datetime) -> deadlines.Clock:
    """The clock of a request received at ``received_at`` under the policy then in force
    (``policy_value`` reads a key: the effective policy's, or the statement's alone)."""
    return deadlines.start_clock(
        received_at=received_at,
        response_days=_days(policy_value("dsr.response_days"), default=30),
        max_extension_days=_days(policy_value("dsr.max_extension_days"), default=0),
    )


def _days(value: object, *, default: int) -> int:
    # Day parameters are integers (policies/parameters.py); a statement without one: default.
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def admit(request: RequestColumns, ctx: RequestContext, *, verified: bool, reason: str) -> None:
    """A new request enters its queue: routed, or verification_pending when it reached
    whoever filed it by a channel that does not prove who the subject is."""
    if verified:
        move(request, RequestStatus.routed, ctx, "routed", reason=reason)
        request.verified_at = request.received_at
    else:
        move(
            request,
            RequestStatus.verification_pending,
            ctx,
            "verification_pending",
            reason=f"received by {request.channel.value}: the subject's identity is to be verified",
        )


def filed_again(
    request: RequestColumns,
    ctx: RequestContext,
    *,
    requester_kind: RequesterKind,
    channel: Channel,
    description: str,
) -> None:
    """The same request filed while this one is open: noted on it, not doubled."""
    note(
        request,
        ctx,
        "filed_again",
        requester_kind=requester_kind.value,
        channel=channel.value,
        description=description,
    )


def assignee_of(principal: Principal, object_id: str | None, name: str | None) -> tuple[str, str]:
    """(id, display) of a handler: the caller when none is named, else a person of the
    caller's own tenant by their Entra object id."""
    if object_id is None:
        return principal.client_key, principal.display_name
    return f"{principal.tenant_id}:{object_id.lower()}", name or object_id


def verify(
    request: RequestColumns, ctx: RequestContext, *, method: str, note_text: str | None
) -> None:
    """The subject's identity was verified: the request enters its queue."""
    move(request, RequestStatus.routed, ctx, "verified", method=method, note=note_text)
    request.verified_at = utcnow()


def assign(request: RequestColumns, ctx: RequestContext, *, assignee_id: str, display: str) -> None:
    """Give the request to one handler (the only one who may download its export)."""
    if not lifecycle.is_open(request.status):
        raise StatusNotAllowed(f"a {request.status.value} request cannot be assigned")
    request.assignee_id, request.assignee_display = assignee_id[:200], display[:200]
    note(request, ctx, "assigned", assignee=display[:200])


def extend(request: RequestColumns, ctx: RequestContext, *, days: int, reason: str) -> None:
    """Extend the response time (art. 12(3)); the subject is told, with the reason."""
    if not lifecycle.is_open(request.status):
        raise StatusNotAllowed(f"a {request.status.value} request cannot be extended")
    now = utcnow()
    try:
        clock = clock_of(request).extend(days=days, reason=reason, now=now)
    except deadlines.ExtensionRefused as refused:
        raise ExtensionNotAllowed(str(refused), extra={"rule": refused.code}) from None
    set_clock(request, clock)
    request.extension_reason = reason
    # The subject learns of it from their own view of the request and through the
    # organisation's systems (dsr.extended): recorded as notified now.
    request.extension_notified_at = now
    note(
        request,
        ctx,
        "extended",
        days=days,
        reason=reason,
        due_at=clock.due_at.isoformat(),
        subject_notified=True,
    )


def await_subject(request: RequestColumns, ctx: RequestContext, *, message: str) -> None:
    """Ask the subject for something; the clock stops until they answer."""
    move(request, RequestStatus.awaiting_subject, ctx, "awaiting_subject", message=message)
    set_clock(request, clock_of(request).pause(utcnow()))


def resume(request: RequestColumns, ctx: RequestContext, *, message: str | None) -> None:
    """The subject answered (or the handler goes on): the clock runs again, due moved on."""
    # Only a pause ends here: routed may become in_progress too, but by work (start), not by
    # an "answer" to a question nobody asked.
    if request.status is not RequestStatus.awaiting_subject:
        raise StatusNotAllowed(
            f"a request that is {request.status.value} awaits nobody",
            extra={"request_status": request.status.value},
        )
    move(request, RequestStatus.in_progress, ctx, "resumed", message=message)
    clock = clock_of(request).resume(utcnow())
    set_clock(request, clock)
    request.timeline[-1]["details"]["due_at"] = clock.due_at.isoformat()


def start(request: RequestColumns, ctx: RequestContext, event: str, **details: Any) -> None:
    """Work begins (fulfilment started): routed becomes in_progress; in_progress stays."""
    if request.status is RequestStatus.in_progress:
        note(request, ctx, event, **details)
    else:
        move(request, RequestStatus.in_progress, ctx, event, **details)


def complete(request: RequestColumns, ctx: RequestContext, *, summary: str) -> None:
    """Answer the request: what was done, in words the subject reads."""
    if not summary.strip():
        raise ValidationFailed(
            "a completion needs a summary", errors={"summary": ["Must not be blank."]}
        )
    move(request, RequestStatus.completed, ctx, "completed", summary=summary)
    _decide(request, ctx, summary=summary, reasons=None)


def reject(request: RequestColumns, ctx: RequestContext, *, reasons: list[str]) -> None:
    """Refuse the request, with reasons; the answer names the right to complain."""
    reasons = [r.strip() for r in reasons if r.strip()]
    if not reasons:
        raise ValidationFailed(
            "a rejection needs its reasons (GDPR art. 12(4))",
            errors={"reasons": ["Give at least one reason."]},
        )
    move(
        request,
        RequestStatus.rejected,
        ctx,
        "rejected",
        reasons=reasons,
        supervisory_authority=SUPERVISORY_AUTHORITY["name"],
    )
    _decide(request, ctx, summary=None, reasons=reasons)


def cancel(
    request: RequestColumns, ctx: RequestContext, *, reason: str | None, **details: Any
) -> None:
    """Withdraw the request (the subject, or a handler for a request filed by mistake)."""
    move(request, RequestStatus.cancelled, ctx, "cancelled", reason=reason, **details)
    request.decided_at = utcnow()
    request.decided_by_display = actor(ctx)["display"]
    # Withdrawn while awaiting the subject: the pause ends with the request.
    if request.awaiting_since is not None:
        set_clock(request, clock_of(request).resume(request.decided_at))


def _decide(
    request: RequestColumns, ctx: RequestContext, *, summary: str | None, reasons: list[str] | None
) -> None:
    request.decided_at = utcnow()
    request.decided_by_display = actor(ctx)["display"]
    request.decision_summary = summary
    request.rejection_reasons = reasons
    # A decision ends a pause: the answer is given.
    if request.awaiting_since is not None:
        set_clock(request, clock_of(request).resume(request.decided_at))


def deadline_notice(
    request: RequestColumns, *, now: datetime, days_before: int
) -> DeadlineNotice | None:
    """The deadline notice the request is owed now, if any (overdue before due soon)."""
    clock = clock_of(request)
    if deadlines.overdue_notice_due(clock, now=now, notified_at=request.overdue_notified_at):
        return DeadlineNotice.overdue
    if deadlines.due_soon_notice_due(
        clock, now=now, days_before=days_before, notified_at=request.due_soon_notified_at
    ):
        return DeadlineNotice.due_soon
    return None


def record_notice(request: RequestColumns, ctx: RequestContext, notice: DeadlineNotice) -> None:
    """Note on the request that its handlers were told it is due soon or overdue."""
    now = utcnow()
    if notice is DeadlineNotice.overdue:
        request.overdue_notified_at = now
    else:
        request.due_soon_notified_at = now
    note(request, ctx, notice.value, due_at=request.due_at.isoformat())
