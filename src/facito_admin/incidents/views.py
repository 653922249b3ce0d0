"""Facito's incidents: its DPO and operators record them, append updates, close them.

Facito staff only (the session serves no organisation); the affected organisations read
their own notices under /v1/organisations/{org_id}/incidents (notice_views.py).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, page_response, require
from . import service
from .schemas import (
    IncidentCloseSchema,
    IncidentCreateSchema,
    IncidentPageSchema,
    IncidentQueryArgsSchema,
    IncidentSchema,
    IncidentUpdateCreateSchema,
)

_LOCATION = {"Location": {"schema": {"type": "string"}}}
_CLOSED = "The incident is closed (`incident-closed`)"

blp = Blueprint(
    "incidents",
    __name__,
    url_prefix="/v1/incidents",
    description="Security incidents Facito records and notifies to each affected organisation "
    "at once (GDPR art. 33(2))",
)


@blp.route("")
class Incidents(MethodView):
    @blp.arguments(IncidentQueryArgsSchema, location="query")
    @blp.response(200, IncidentPageSchema)
    @require(Permission.FacitoIncidentsRead)
    def get(self, args: dict[str, Any]) -> Any:
        """List incidents, newest first"""
        page = service.list_incidents(
            db_session(), status=args["status"], limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)

    @blp.arguments(IncidentCreateSchema)
    @blp.response(201, IncidentSchema, headers=_LOCATION)
    @require(Permission.FacitoIncidentsWrite)
    def post(self, body: dict[str, Any]) -> Any:
        """Record an incident; each affected organisation gets its notice and an
        `incident.reported` webhook at once
        ---
        The organisations are told right after the incident is recorded, each in its own
        transaction; their 72-hour clocks (art. 33(1)) start then. No organisation learns
        which others are affected.
        """
        record = service.record_incident(db_session(), current_ctx(), **body)
        location = url_for("incidents.IncidentById", incident_id=record.incident.id)
        return record, 201, {"Location": location}


@blp.route("/<uuid:incident_id>")
class IncidentById(MethodView):
    @blp.response(200, IncidentSchema)
    @require(Permission.FacitoIncidentsRead)
    def get(self, incident_id: UUID) -> Any:
        """Read an incident with its updates and affected organisations"""
        return service.get_incident(db_session(), incident_id=incident_id)


@blp.route("/<uuid:incident_id>/updates")
class IncidentUpdates(MethodView):
    @blp.arguments(IncidentUpdateCreateSchema)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(409, description=_CLOSED)
    @require(Permission.FacitoIncidentsWrite)
    def post(self, body: dict[str, Any], incident_id: UUID) -> Any:
        """Append an update; every affected organisation gets `incident.updated`, and those
        it names for the first time their notice and `incident.reported`"""
        return service.update_incident(db_session(), current_ctx(), incident_id=incident_id, **body)


@blp.route("/<uuid:incident_id>/close")
class IncidentClose(MethodView):
    @blp.arguments(IncidentCloseSchema)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(409, description=_CLOSED)
    @require(Permission.FacitoIncidentsWrite)
    def post(self, body: dict[str, Any], incident_id: UUID) -> Any:
        """Close the incident; every affected organisation gets `incident.closed`"""
        return service.close_incident(db_session(), current_ctx(), incident_id=incident_id, **body)
