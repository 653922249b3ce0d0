"""Facito's side of incidents: record one, append updates and the closure, read them.

Every change is one transaction in a session that serves no organisation, recorded on
Facito's own chain; the affected organisations hear of it right after it commits, each in a
transaction of its own (fanout.py), so no organisation's row is written here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.facito_log import record_facito_event
from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..errors import InvalidState, NotFound, ValidationFailed
from ..policies.categories import CATEGORIES
from ..tenants.models import Organisation
from .actions import IncidentAction
from .fanout import deliver_after_commit
from .models import (
    Incident,
    IncidentOrganisation,
    IncidentStatus,
    IncidentUpdate,
    UpdateKind,
)

# Clocks of the callers' systems differ a little: "detected now" may arrive a moment ahead.
_CLOCK_SKEW = timedelta(minutes=5)


class IncidentClosed(InvalidState):
    code, title = "incident-closed", "The incident is closed"


@dataclass(frozen=True)
class IncidentRecord:
    """An incident with its updates and affected organisations (Facito's view)."""

    incident: Incident
    updates: Sequence[IncidentUpdate]
    organisations: Sequence[IncidentOrganisation]


def _check_categories(categories: Sequence[str]) -> list[str]:
    unknown = [key for key in categories if key not in CATEGORIES]
    if unknown:
        raise ValidationFailed(
            "not a data category (GET /v1/data-categories)",
            errors={"data_categories": [f"Not a data category: {key}." for key in unknown]},
        )
    return list(dict.fromkeys(categories))


def _check_organisations(
    session: Session, organisation_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(organisation_ids))
    found = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(wanted))))
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(
            "no such organisation",
            errors={"organisation_ids": [f"No such organisation: {i}." for i in missing]},
        )
    return wanted


def _check_times(occurred_at: datetime | None, detected_at: datetime) -> None:
    if detected_at > utcnow() + _CLOCK_SKEW:
        raise ValidationFailed(
            "an incident is recorded once detected",
            errors={"detected_at": ["Must not lie in the future."]},
        )
    if occurred_at is not None and occurred_at > detected_at:
        raise ValidationFailed(
            "an incident happens before it is detected",
            errors={"occurred_at": ["Must not lie after detected_at."]},
        )


def record_incident(
    session: Session,
    ctx: RequestContext,
    *,
    title: str,
    description: str,
    occurred_at: datetime | None,
    detected_at: datetime,
    data_categories: Sequence[str],
    measures: str,
    organisation_ids: Sequence[uuid.UUID],
) -> IncidentRecord:
    """Record an incident; each affected organisation is notified as soon as it commits."""
    categories = _check_categories(data_categories)
    _check_times(occurred_at, detected_at)
    affected = _check_organisations(session, organisation_ids)
    incident = Incident(
        title=title,
        description=description,
        occurred_at=occurred_at,
        detected_at=detected_at,
        data_categories=categories,
        measures=measures,
        status=IncidentStatus.open,
        update_count=0,
        recorded_by=ctx.principal.display_name[:200],
        recorded_by_oid=ctx.principal.object_id[:36],
    )
    session.add(incident)
    session.flush()
    for organisation_id in affected:
        session.add(
            IncidentOrganisation(
                incident_id=incident.id, organisation_id=organisation_id, added_seq=0
            )
        )
    session.flush()
    record_facito_event(
        session,
        ctx,
        action=IncidentAction.Record,
        target_type="incident",
        target_id=incident.id,
        details={
            "title": title,
            "detected_at": detected_at.isoformat(),
            "data_categories": categories,
            "organisation_ids": [str(i) for i in affected],
        },
    )
    deliver_after_commit(session, incident.id)
    return get_incident(session, incident_id=incident.id)


def _lock_incident(session: Session, incident_id: uuid.UUID) -> Incident:
    found = session.scalars(
        select(Incident)
        .where(Incident.id == incident_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise NotFound("no such incident")
    if found.status is IncidentStatus.closed:
        raise IncidentClosed(f"closed at {found.closed_at.isoformat() if found.closed_at else '?'}")
    return found


def _append(
    session: Session,
    ctx: RequestContext,
    incident: Incident,
    *,
    kind: UpdateKind,
    text: str,
    measures: str | None,
) -> IncidentUpdate:
    incident.update_count += 1
    update = IncidentUpdate(
        incident_id=incident.id,
        seq=incident.update_count,
        kind=kind,
        text=text,
        measures=measures,
        author=ctx.principal.display_name[:200],
        author_oid=ctx.principal.object_id[:36],
    )
    if measures is not None:
        incident.measures = measures
    incident.updated_at = utcnow()
    session.add(update)
    return update


def update_incident(
    session: Session,
    ctx: RequestContext,
    *,
    incident_id: uuid.UUID,
    text: str,
    measures: str | None,
    organisation_ids: Sequence[uuid.UUID],
) -> IncidentRecord:
    """Append an update; organisations it names for the first time are notified at once."""
    incident = _lock_incident(session, incident_id)
    named = _check_organisations(session, organisation_ids)
    already = set(
        session.scalars(
            select(IncidentOrganisation.organisation_id).where(
                IncidentOrganisation.incident_id == incident.id
            )
        )
    )
    added = [i for i in named if i not in already]
    update = _append(session, ctx, incident, kind=UpdateKind.updated, text=text, measures=measures)
    for organisation_id in added:
        session.add(
            IncidentOrganisation(
                incident_id=incident.id, organisation_id=organisation_id, added_seq=update.seq
            )
        )
    session.flush()
    record_facito_event(
        session,
        ctx,
        action=IncidentAction.Update,
        target_type="incident",
        target_id=incident.id,
        details={
            "seq": update.seq,
            "measures_changed": measures is not None,
            "added_organisation_ids": [str(i) for i in added],
        },
    )
    deliver_after_commit(session, incident.id)
    return get_incident(session, incident_id=incident.id)


def close_incident(
    session: Session,
    ctx: RequestContext,
    *,
    incident_id: uuid.UUID,
    text: str,
    measures: str | None,
) -> IncidentRecord:
    """Close the incident with a last word; every affected organisation is told."""
    incident = _lock_incident(session, incident_id)
    update = _append(session, ctx, incident, kind=UpdateKind.closed, text=text, measures=measures)
    incident.status = IncidentStatus.closed
    incident.closed_at = update.created_at = utcnow()
    session.flush()
    record_facito_event(
        session,
        ctx,
        action=IncidentAction.Close,
        target_type="incident",
        target_id=incident.id,
        details={"seq": update.seq, "measures_changed": measures is not None},
    )
    deliver_after_commit(session, incident.id)
    return get_incident(session, incident_id=incident.id)


def list_incidents(
    session: Session, *, status: IncidentStatus | None, limit: int, cursor: str | None
) -> Page[IncidentRecord]:
    """Incidents, newest first; optionally only open or closed ones."""
    query = select(Incident)
    if status is not None:
        query = query.where(Incident.status == status)
    page = paginate(session, query, keys=[Incident.id], limit=limit, cursor=cursor, descending=True)
    return Page(_records(session, page.items), page.next_cursor)


def get_incident(session: Session, *, incident_id: uuid.UUID) -> IncidentRecord:
    """One incident with its updates and affected organisations, or 404."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("no such incident")
    [record] = _records(session, [incident])
    return record


def _records(session: Session, incidents: Sequence[Incident]) -> list[IncidentRecord]:
    ids = [i.id for i in incidents]
    updates: dict[uuid.UUID, list[IncidentUpdate]] = {i: [] for i in ids}
    organisations: dict[uuid.UUID, list[IncidentOrganisation]] = {i: [] for i in ids}
    if ids:
        for update in session.scalars(
            select(IncidentUpdate)
            .where(IncidentUpdate.incident_id.in_(ids))
            .order_by(IncidentUpdate.incident_id, IncidentUpdate.seq)
        ):
            updates[update.incident_id].append(update)
        for affected in session.scalars(
            select(IncidentOrganisation)
            .where(IncidentOrganisation.incident_id.in_(ids))
            .order_by(IncidentOrganisation.incident_id, IncidentOrganisation.organisation_id)
        ):
            organisations[affected.incident_id].append(affected)
    return [IncidentRecord(i, updates[i.id], organisations[i.id]) for i in incidents]
