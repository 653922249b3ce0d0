"""Incidents (global, Facito's record), their updates and affected organisations, and each
affected organisation's own notice (tenant-scoped: its clock and its assessment)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamped, new_id, string_enum, utcnow
from ..db.tenancy import TenantScoped


class IncidentStatus(StrEnum):
    open = "open"
    closed = "closed"


class UpdateKind(StrEnum):
    updated = "updated"
    closed = "closed"


class Incident(Timestamped, Base):
    """A personal-data breach at Facito, as its DPO or operators recorded it (art. 33(2)).

    ``update_count`` is the seq of the last update (0: only the report): the fan-out
    (incidents/fanout.py) delivers every organisation what lies between its
    ``IncidentOrganisation.delivered_seq`` and it.
    """

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_id", "status", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(4000))
    occurred_at: Mapped[datetime | None]
    detected_at: Mapped[datetime]
    data_categories: Mapped[list[str]] = mapped_column(JSON)
    measures: Mapped[str] = mapped_column(String(4000))
    status: Mapped[IncidentStatus] = mapped_column(
        string_enum(IncidentStatus, "incident_status"), default=IncidentStatus.open
    )
    update_count: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None]
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_oid: Mapped[str] = mapped_column(String(36))


class IncidentUpdate(Base):
    """One update or the closure appended to an incident, numbered from 1."""

    __tablename__ = "incident_updates"

    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[UpdateKind] = mapped_column(string_enum(UpdateKind, "incident_update_kind"))
    text: Mapped[str] = mapped_column(String(4000))
    # The measures taken as of this update, when it changed them.
    measures: Mapped[str | None] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[str] = mapped_column(String(200))
    author_oid: Mapped[str] = mapped_column(String(36))


class IncidentOrganisation(Base):
    """An organisation affected by an incident, and what the fan-out has told it so far.

    Global: Facito's list of whom an incident concerns. An organisation never reads another's
    row (incidents/notices.py reads only its own, by the session's organisation).
    """

    __tablename__ = "incident_organisations"
    __table_args__ = (Index("ix_incident_organisations_organisation", "organisation_id"),)

    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), primary_key=True
    )
    # The update that named it (0: the report).
    added_seq: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by the fan-out in the organisation's own transaction: when it was told (its
    # notice's notified_at, shown to Facito here) and the last update it was told of.
    notified_at: Mapped[datetime | None]
    delivered_seq: Mapped[int | None]


class AssessmentDecision(StrEnum):
    # Art. 33(1): the controller notified its supervisory authority ...
    authority_notified = "authority_notified"
    # ... or found the breach unlikely to result in a risk to people (documented, art. 33(5)).
    not_notified = "not_notified"


class IncidentNotice(TenantScoped, Base):
    """An affected organisation's notice of an incident: its 72-hour clock and its assessment.

    ``id`` is the incident's id: the organisation names the incident it was told of.
    """

    __tablename__ = "incident_notices"

    id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    # When Facito told the organisation: it became aware then, its 72 hours start (art. 33(1)).
    notified_at: Mapped[datetime]
    decision: Mapped[AssessmentDecision | None] = mapped_column(
        string_enum(AssessmentDecision, "incident_assessment_decision")
    )
    reason: Mapped[str | None] = mapped_column(String(4000))
    authority_reference: Mapped[str | None] = mapped_column(String(200))
    assessed_at: Mapped[datetime | None]
    assessed_by: Mapped[str | None] = mapped_column(String(200))
    assessed_by_oid: Mapped[str | None] = mapped_column(String(36))
