"""Objection (GDPR art. 21) and consent withdrawal (art. 7(3)): preferences opted out at once.

An objection to direct marketing is absolute (art. 21(3)): when it names no setting, or any
marketing or advertising one, every marketing channel, interest-based advertising, partner
sharing and advertising cookies go off together. One that names other settings only (say
analytics cookies) turns off those. A consent withdrawal turns off what it names, or every
marketing and advertising setting when it names none. Necessary cookies cannot be refused.

The change goes through consents.service like any other: one history row (source
`data_subject_request`, actor the subject or their guardian, actor_id the request's id,
actor_display its reference) and its audit event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from ...consents.preferences import (
    MARKETING,
    NECESSARY_COOKIES,
    SETTINGS,
    ActorKind,
    ChangeSource,
)
from ...consents.service import Actor, change_preferences
from ...jobs import JobContext, job_handler
from ..actions import RequestAction
from ..models import RequesterKind, RequestKind, SubjectRequest
from ..service import FULFILMENT_JOBS
from .base import account_of, finish, load_request, refusals


def settings_to_turn_off(kind: RequestKind, named: Sequence[str]) -> list[str]:
    """The settings an objection or a withdrawal naming ``named`` turns off, in SETTINGS order."""
    chosen = set(named) - {NECESSARY_COOKIES}
    if not named:
        chosen = set(MARKETING)
    elif kind is RequestKind.objection and chosen & set(MARKETING):
        chosen |= set(MARKETING)
    return [setting for setting in SETTINGS if setting in chosen]


def _actor(request: SubjectRequest) -> Actor:
    """The subject exercised the right (through whoever filed it): the history says whose."""
    guardian = request.requester_kind is RequesterKind.guardian
    return Actor(
        kind=ActorKind.guardian if guardian else ActorKind.subject,
        id=str(request.id),
        display=f"{request.reference} ({request.kind.value})",
        source=ChangeSource.data_subject_request,
    )


# One kind for both (service.py: FULFILMENT_JOBS): the request's kind tells them apart.
@job_handler(FULFILMENT_JOBS[RequestKind.objection])
def opt_out(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Turn off the preferences an objection or a consent withdrawal names."""
    request = load_request(session, ctx)
    named = list(request.scope.get("preferences") or [])
    settings = settings_to_turn_off(request.kind, named)
    with refusals():
        update = change_preferences(
            session,
            ctx.request,
            account_id=account_of(request),
            document=dict.fromkeys(settings, False),
            actor=_actor(request),
        )
    changed = sorted(update.changed)
    result = {
        "settings": settings,
        "changed": changed,
        # Off already (an earlier choice, or the policy's default): nothing to record.
        "already_off": [s for s in settings if s not in update.changed],
        "not_refusable": [NECESSARY_COOKIES] if NECESSARY_COOKIES in named else [],
    }
    stored = finish(
        session,
        ctx,
        request,
        action=RequestAction.OptOut,
        event="preferences_opted_out",
        result=result,
        note={"settings": settings, "changed": changed},
        audit={"settings": settings, "changed": changed},
    )
    ctx.progress(1, 1)
    return stored
