"""The incidents that affect an organisation, its 72-hour clock, and its assessment."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, page_response, require
from . import notices
from .schemas import (
    IncidentAssessmentCreateSchema,
    IncidentNoticePageSchema,
    IncidentNoticeSchema,
    IncidentQueryArgsSchema,
)

blp = Blueprint(
    "incident_notices",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/incidents",
    description="Security incidents at Facito that concern the organisation, with the time "
    "left to notify its supervisory authority (GDPR art. 33)",
)


@blp.route("")
class IncidentNotices(MethodView):
    @blp.arguments(IncidentQueryArgsSchema, location="query")
    @blp.response(200, IncidentNoticePageSchema)
    @require(Permission.IncidentsRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the incidents Facito notified the organisation of, newest first"""
        page = notices.list_incident_notices(
            db_session(), status=args["status"], limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)


@blp.route("/<uuid:incident_id>")
class IncidentNoticeById(MethodView):
    @blp.response(200, IncidentNoticeSchema)
    @require(Permission.IncidentsRead)
    def get(self, org_id: UUID, incident_id: UUID) -> Any:
        """Read an incident that concerns the organisation, with its updates and clock"""
        return notices.get_incident_notice(db_session(), incident_id=incident_id)


@blp.route("/<uuid:incident_id>/assessment")
class IncidentAssessment(MethodView):
    @blp.arguments(IncidentAssessmentCreateSchema)
    @blp.response(200, IncidentNoticeSchema)
    @blp.alt_response(409, description="Assessed already (`incident-already-assessed`)")
    @require(Permission.IncidentsAssess)
    def post(self, body: dict[str, Any], org_id: UUID, incident_id: UUID) -> Any:
        """Record that the organisation notified its supervisory authority, or why it need not;
        the clock stops (once only)"""
        return notices.assess_incident(db_session(), current_ctx(), incident_id=incident_id, **body)
