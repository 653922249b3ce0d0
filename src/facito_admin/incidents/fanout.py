"""Telling the affected organisations at once: right after Facito's transaction commits, one
transaction per organisation, one organisation at a time; a scan every minute catches up.

A change to an incident commits on Facito's chain first (service.py), in a session that
serves no organisation; only then is each affected organisation told, in a session bound to
it (notices.deliver_to_organisation: its notice, its chain, its webhooks). The lock order is
the one cross-organisation work keeps: Facito's chain, then each organisation's. Delivery
keeps per organisation what it told (``IncidentOrganisation.delivered_seq``), so a failure
for one organisation (logged) neither stops the others nor is lost: the periodic scan
delivers whatever is still owed, and a delivery that runs twice tells nothing twice.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import Select, event, or_, select
from sqlalchemy.orm import Session, SessionTransaction

from ..db.session import unit_of_work
from ..jobs import periodic_job, system_context
from ..runtime import Runtime, runtime_of
from .models import Incident, IncidentOrganisation
from .notices import deliver_to_organisation

SCAN_NAME = "incident-notice-scan"
_PENDING_KEY = "incidents_to_deliver_after_commit"
log = structlog.get_logger("facito_admin.incidents")


def deliver_after_commit(session: Session, incident_id: uuid.UUID) -> None:
    """Tell the incident's organisations what they are owed once this transaction commits."""
    session.info.setdefault(_PENDING_KEY, set()).add(incident_id)


def _owed(*, incident_id: uuid.UUID | None = None) -> Select[uuid.UUID, uuid.UUID]:
    query = (
        select(IncidentOrganisation.incident_id, IncidentOrganisation.organisation_id)
        .join(Incident, Incident.id == IncidentOrganisation.incident_id)
        .where(
            or_(
                IncidentOrganisation.delivered_seq.is_(None),
                IncidentOrganisation.delivered_seq < Incident.update_count,
            )
        )
        .order_by(IncidentOrganisation.incident_id, IncidentOrganisation.organisation_id)
    )
    if incident_id is not None:
        query = query.where(IncidentOrganisation.incident_id == incident_id)
    return query


def _deliver(runtime: Runtime, owed: list[tuple[uuid.UUID, uuid.UUID]]) -> int:
    ctx = system_context(SCAN_NAME)
    told = 0
    for incident_id, organisation_id in owed:
        try:
            with unit_of_work(runtime, organisation_id=organisation_id) as session:
                told += deliver_to_organisation(session, ctx, incident_id=incident_id)
        except Exception:  # the next organisation still hears; the scan retries
            log.exception(
                "incident_delivery_failed",
                incident_id=str(incident_id),
                organisation_id=str(organisation_id),
            )
    return told


def deliver_incident(runtime: Runtime, incident_id: uuid.UUID) -> int:
    """Tell each affected organisation what it is owed of one incident; how many events."""
    # Global tables only: this session needs no organisation.
    with runtime.session() as session:
        owed = [(i, o) for i, o in session.execute(_owed(incident_id=incident_id))]
    return _deliver(runtime, owed)


def deliver_owed_notices(runtime: Runtime) -> int:
    """Every incident's owed deliveries (the scan); how many events."""
    with runtime.session() as session:
        owed = [(i, o) for i, o in session.execute(_owed())]
    return _deliver(runtime, owed)


@periodic_job(SCAN_NAME, minute="*")
def scan_for_incident_notices(runtime: Runtime) -> None:
    """Every minute: deliver what an interrupted fan-out still owes an organisation."""
    deliver_owed_notices(runtime)


@event.listens_for(Session, "after_commit")
def _deliver_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    runtime = runtime_of(session)
    for incident_id in sorted(pending):
        # The change is committed: a failure here must not turn its answer into an error.
        try:
            deliver_incident(runtime, incident_id)
        except Exception:  # logged; the scan delivers it within a minute
            log.exception("incident_fanout_failed", incident_id=str(incident_id))


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back change tells nobody (after_commit took what a commit allowed).
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
