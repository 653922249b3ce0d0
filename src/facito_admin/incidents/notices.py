"""An affected organisation's side of incidents: what Facito told it, its 72-hour clock, and
its assessment; and :func:`deliver_to_organisation`, the one place that tells it.

Everything here runs in a session bound to the organisation. Its notice (tenant-scoped) is
the way in: an incident without a notice of the session's organisation does not exist for
it (404), and nothing it reads names another affected organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..db.tenancy import require_organisation
from ..errors import InvalidState, NotFound
from ..webhooks.events import WebhookEventType, publish_events
from .actions import IncidentNoticeAction
from .clock import AuthorityClock, authority_clock, authority_deadline
from .models import (
    AssessmentDecision,
    Incident,
    IncidentNotice,
    IncidentOrganisation,
    IncidentStatus,
    IncidentUpdate,
    UpdateKind,
)


class IncidentAlreadyAssessed(InvalidState):
    code, title = "incident-already-assessed", "The organisation assessed the incident already"


@dataclass(frozen=True)
class NoticeView:
    """An incident as one affected organisation sees it (never the other organisations)."""

    notice: IncidentNotice
    incident: Incident
    # The updates the organisation was told of, oldest first.
    updates: Sequence[IncidentUpdate]
    clock: AuthorityClock

    @property
    def assessment(self) -> IncidentNotice | None:
        """The organisation's assessment (on its notice), once recorded."""
        return self.notice if self.notice.assessed_at is not None else None


# --- telling the organisation (fanout.py calls this, one organisation at a time) ------------


def _incident_data(incident: Incident, notice: IncidentNotice) -> dict[str, Any]:
    return {
        "incident_id": str(incident.id),
        "title": incident.title,
        "description": incident.description,
        "occurred_at": incident.occurred_at.isoformat() if incident.occurred_at else None,
        "detected_at": incident.detected_at.isoformat(),
        "data_categories": list(incident.data_categories),
        "measures": incident.measures,
        "status": incident.status.value,
        "notified_at": notice.notified_at.isoformat(),
        "authority_deadline": authority_deadline(notice.notified_at).isoformat(),
    }


def _update_data(incident: Incident, update: IncidentUpdate) -> dict[str, Any]:
    return {
        "incident_id": str(incident.id),
        "seq": update.seq,
        "text": update.text,
        "measures": update.measures,
        "status": IncidentStatus.closed.value
        if update.kind is UpdateKind.closed
        else IncidentStatus.open.value,
        "at": update.created_at.isoformat(),
    }


_UPDATE_EVENTS = {
    UpdateKind.updated: (IncidentNoticeAction.NotifyUpdate, WebhookEventType.IncidentUpdated),
    UpdateKind.closed: (IncidentNoticeAction.NotifyClose, WebhookEventType.IncidentClosed),
}


def deliver_to_organisation(
    session: Session, ctx: RequestContext, *, incident_id: uuid.UUID
) -> int:
    """Tell the session's organisation what it has not yet heard of the incident: its notice
    and `incident.reported` the first time, then each update; how many events (a repeat
    changes nothing)."""
    organisation_id = require_organisation(session)
    # The affected row first: two deliveries at once (the request's and the scan's) serialise
    # here, before the notice and the organisation's chain.
    affected = session.scalars(
        select(IncidentOrganisation)
        .where(
            IncidentOrganisation.incident_id == incident_id,
            IncidentOrganisation.organisation_id == organisation_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if affected is None:
        return 0
    incident = session.scalars(
        select(Incident).where(Incident.id == incident_id).execution_options(populate_existing=True)
    ).one()
    if affected.delivered_seq is not None and affected.delivered_seq >= incident.update_count:
        return 0
    events: list[tuple[WebhookEventType, dict[str, Any]]] = []
    if affected.delivered_seq is None:
        notice = IncidentNotice(
            organisation_id=organisation_id, id=incident.id, notified_at=utcnow()
        )
        session.add(notice)
        session.flush()
        affected.notified_at = notice.notified_at
        data = _incident_data(incident, notice)
        record_event(
            session,
            ctx,
            action=IncidentNoticeAction.Notify,
            target_type="incident",
            target_id=incident.id,
            details={
                "title": incident.title,
                "data_categories": data["data_categories"],
                "notified_at": data["notified_at"],
                "authority_deadline": data["authority_deadline"],
            },
        )
        events.append((WebhookEventType.IncidentReported, data))
    else:
        for update in session.scalars(
            select(IncidentUpdate)
            .where(
                IncidentUpdate.incident_id == incident.id,
                IncidentUpdate.seq > affected.delivered_seq,
                IncidentUpdate.seq <= incident.update_count,
            )
            .order_by(IncidentUpdate.seq)
        ):
            action, event_type = _UPDATE_EVENTS[update.kind]
            record_event(
                session,
                ctx,
                action=action,
                target_type="incident",
                target_id=incident.id,
                details={"seq": update.seq, "measures_changed": update.measures is not None},
            )
            events.append((event_type, _update_data(incident, update)))
    affected.delivered_seq = incident.update_count
    session.flush()
    publish_events(session, organisation_id=organisation_id, events=events)
    return len(events)


# --- reading and assessing -------------------------------------------------------------------


def _views(session: Session, notices: Sequence[IncidentNotice]) -> list[NoticeView]:
    organisation_id = require_organisation(session)
    ids = [n.id for n in notices]
    if not ids:
        return []
    incidents = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(ids)))}
    # Only the organisation's own affected rows: what it was told (delivered_seq).
    told = dict(
        session.execute(
            select(IncidentOrganisation.incident_id, IncidentOrganisation.delivered_seq).where(
                IncidentOrganisation.incident_id.in_(ids),
                IncidentOrganisation.organisation_id == organisation_id,
            )
        ).all()
    )
    updates: dict[uuid.UUID, list[IncidentUpdate]] = {i: [] for i in ids}
    for update in session.scalars(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id.in_(ids))
        .order_by(IncidentUpdate.incident_id, IncidentUpdate.seq)
    ):
        if update.seq <= (told.get(update.incident_id) or 0):
            updates[update.incident_id].append(update)
    now = utcnow()
    return [
        NoticeView(
            notice=n,
            incident=incidents[n.id],
            updates=updates[n.id],
            clock=authority_clock(notified_at=n.notified_at, now=now, assessed_at=n.assessed_at),
        )
        for n in notices
    ]


def list_incident_notices(
    session: Session, *, status: IncidentStatus | None, limit: int, cursor: str | None
) -> Page[NoticeView]:
    """The incidents the organisation was told of, newest first; optionally open or closed."""
    query = select(IncidentNotice)
    if status is not None:
        query = query.join(Incident, Incident.id == IncidentNotice.id).where(
            Incident.status == status
        )
    page = paginate(
        session, query, keys=[IncidentNotice.id], limit=limit, cursor=cursor, descending=True
    )
    return Page(_views(session, page.items), page.next_cursor)


def _notice(session: Session, incident_id: uuid.UUID, *, lock: bool = False) -> IncidentNotice:
    query = select(IncidentNotice).where(IncidentNotice.id == incident_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.scalars(query).first()
    if found is None:
        raise NotFound("no such incident")
    return found


def get_incident_notice(session: Session, *, incident_id: uuid.UUID) -> NoticeView:
    """One incident the organisation was told of, with its updates and clock, or 404."""
    [view] = _views(session, [_notice(session, incident_id)])
    return view


def assess_incident(
    session: Session,
    ctx: RequestContext,
    *,
    incident_id: uuid.UUID,
    decision: AssessmentDecision,
    reason: str,
    authority_reference: str | None,
) -> NoticeView:
    """Record that the organisation notified its supervisory authority, or why it need not
    (art. 33(1), documented per art. 33(5)); the clock stops. Once only."""
    notice = _notice(session, incident_id, lock=True)
    if notice.assessed_at is not None:
        raise IncidentAlreadyAssessed(
            f"assessed by {notice.assessed_by} at {notice.assessed_at.isoformat()}"
        )
    notice.decision = decision
    notice.reason = reason
    notice.authority_reference = authority_reference
    notice.assessed_at = utcnow()
    notice.assessed_by = ctx.principal.display_name[:200]
    notice.assessed_by_oid = ctx.principal.object_id[:36]
    session.flush()
    clock = authority_clock(
        notified_at=notice.notified_at, now=notice.assessed_at, assessed_at=notice.assessed_at
    )
    record_event(
        session,
        ctx,
        action=IncidentNoticeAction.Assess,
        target_type="incident",
        target_id=notice.id,
        details={
            "decision": decision.value,
            "authority_reference": authority_reference,
            "deadline_passed": clock.deadline_passed,
        },
    )
    return get_incident_notice(session, incident_id=incident_id)
