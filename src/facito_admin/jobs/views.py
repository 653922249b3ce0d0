"""An organisation's background jobs: list, progress of one, cancel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, page_response, require
from . import service
from .schemas import JobPageSchema, JobQueryArgsSchema, JobSchema

blp = Blueprint(
    "jobs",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/jobs",
    description="Background jobs (directory syncs, purges…): progress and outcome",
)


@blp.route("")
class Jobs(MethodView):
    @blp.arguments(JobQueryArgsSchema, location="query")
    @blp.response(200, JobPageSchema)
    @require(Permission.JobsRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's jobs, newest first"""
        page = service.list_jobs(
            db_session(),
            kind=args["kind"],
            state=args["state"],
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(page, args)


@blp.route("/<uuid:job_id>")
class JobById(MethodView):
    @blp.response(200, JobSchema)
    @require(Permission.JobsRead)
    def get(self, org_id: UUID, job_id: UUID) -> Any:
        """Read a job: state, progress, result or error"""
        return service.get_job(db_session(), job_id=job_id)


@blp.route("/<uuid:job_id>/cancel")
class JobCancel(MethodView):
    @blp.response(200, JobSchema)
    @blp.alt_response(409, description="The job has already finished")
    @require(Permission.JobsWrite)
    def post(self, org_id: UUID, job_id: UUID) -> Any:
        """Cancel a job: a queued one at once, a running one at its next step"""
        return service.cancel_job(db_session(), current_ctx(), job_id=job_id)
