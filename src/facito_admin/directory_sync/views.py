"""Directory syncs of an organisation: start one, list the runs, read and set the schedule."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, page_response, require
from ..jobs.schemas import JobPageSchema, JobSchema
from . import service
from .schemas import (
    DirectorySyncCreateSchema,
    DirectorySyncQueryArgsSchema,
    DirectorySyncScheduleSchema,
    DirectorySyncStateSchema,
)

blp = Blueprint(
    "directory_syncs",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/directory-syncs",
    description="Accounts synced from the organisation's Entra ID directory (Microsoft Graph)",
)


@blp.route("")
class DirectorySyncs(MethodView):
    @blp.arguments(DirectorySyncQueryArgsSchema, location="query")
    @blp.response(200, JobPageSchema)
    @require(Permission.DirectorySyncRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's directory sync runs (jobs), newest first"""
        page = service.list_directory_syncs(
            db_session(), state=args["state"], limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)

    @blp.doc(operationId="startDirectorySync")
    @blp.arguments(DirectorySyncCreateSchema)
    @blp.response(202, JobSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(409, description="A sync of the federation is queued or running")
    @require(Permission.DirectorySyncWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Start a directory sync; follow the job it returns
        ---
        The sync runs in the background: poll the job (`Location`) for progress, and read
        its `result` for the counts. Accounts are matched by Entra object id, or adopted by
        UPN when an administrator created them by hand.
        """
        job = service.start_directory_sync(
            db_session(), current_ctx(), federation_id=body["federation_id"], mode=body["mode"]
        )
        return job, 202, {"Location": url_for("jobs.JobById", org_id=org_id, job_id=job.id)}


@blp.route("/federations/<uuid:federation_id>")
class DirectorySyncStateById(MethodView):
    @blp.response(200, DirectorySyncStateSchema)
    @require(Permission.DirectorySyncRead)
    def get(self, org_id: UUID, federation_id: UUID) -> Any:
        """Read the sync state and schedule of a federation"""
        return service.get_sync_state(db_session(), federation_id=federation_id)

    @blp.doc(operationId="updateDirectorySyncSchedule")
    @blp.arguments(DirectorySyncScheduleSchema)
    @blp.response(200, DirectorySyncStateSchema)
    @require(Permission.DirectorySyncWrite)
    def patch(self, body: dict[str, Any], org_id: UUID, federation_id: UUID) -> Any:
        """Schedule a federation's delta syncs (on or off, and how often)"""
        return service.update_sync_schedule(
            db_session(), current_ctx(), federation_id=federation_id, changes=body
        )
