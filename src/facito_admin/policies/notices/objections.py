"""Objections to new subprocessors and regions (GDPR art. 28(2)): the organisation's, on its
notice (Facito's operators and DPO list them: policies/statements/objections.py).

A notice of a statement version that adds a subprocessor or a region (policies/statements/
diff.storage_additions) carries an objection window that closes when the version takes effect
(`objection_until`); notices_service.notify_organisation_of_statement sets it. An organisation
objects once per notice; the objection lives on the notice itself and on the organisation's
audit chain.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ...audit.service import record_event
from ...auth.context import RequestContext
from ...db.base import utcnow
from ...errors import Conflict, InvalidState
from ...webhooks.events import WebhookEventType, publish_event
from ..actions import PolicyAction
from ..models import OrganisationNotice
from .service import get_notice


class NoObjectionWindow(InvalidState):
    code, title = "no-objection-window", "The notice has no objection window"


class ObjectionWindowClosed(InvalidState):
    code, title = "objection-window-closed", "The objection window has closed"


class ObjectionAlreadyRecorded(Conflict):
    code, title = "objection-already-recorded", "The organisation objected already"


def object_to_notice(
    session: Session, ctx: RequestContext, *, notice_id: uuid.UUID, reason: str
) -> tuple[OrganisationNotice, bool]:
    """Record the organisation's objection to what a version adds; whether it is new.

    The same objection again answers as the first did (a retried request); another reason
    after the first is refused: the objection on record is the one Facito acts on.
    """
    notice = get_notice(session, notice_id=notice_id)
    if notice.objection_until is None:
        raise NoObjectionWindow(
            "the version this notice announces adds no subprocessor or region: "
            "there is nothing to object to"
        )
    if notice.objected_at is not None:
        if notice.objection_reason == reason:
            return notice, False
        raise ObjectionAlreadyRecorded(
            f"objected by {notice.objected_by} at {notice.objected_at.isoformat()}",
            extra={"objected_at": notice.objected_at.isoformat()},
        )
    now = utcnow()
    if now >= notice.objection_until:
        raise ObjectionWindowClosed(
            f"objections were possible until {notice.objection_until.isoformat()}, "
            "when the version took effect",
            extra={"objection_until": notice.objection_until.isoformat()},
        )
    notice.objected_at = now
    notice.objected_by = ctx.principal.display_name[:200]
    notice.objected_by_oid = ctx.principal.object_id[:36]
    notice.objection_reason = reason
    session.flush()
    record_event(
        session,
        ctx,
        action=PolicyAction.NoticeObject,
        target_type="notice",
        target_id=notice.id,
        details={
            "statement_id": notice.statement_id,
            "additions": notice.additions,
            "objection_until": notice.objection_until,
            "reason": reason,
        },
    )
    publish_event(
        session,
        organisation_id=notice.organisation_id,
        event_type=WebhookEventType.PolicyObjectionRecorded,
        data={
            "notice_id": str(notice.id),
            "statement_id": str(notice.statement_id),
            "added_subprocessors": notice.added_subprocessors,
            "added_regions": notice.added_regions,
            "objection_until": notice.objection_until.isoformat(),
            "objected_at": now.isoformat(),
            "reason": reason,
        },
    )
    return notice, True
