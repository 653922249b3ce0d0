"""Support access: staff ask (/v1/support-access-requests), organisations decide and watch
(/v1/organisations/{org}/support-access-requests, /access-log)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..audit.service import EventFilter, list_events
from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, page_response, require, runtime
from . import service
from .actions import SupportAccessAction
from .schemas import (
    AccessLogPageSchema,
    AccessLogQueryArgsSchema,
    OwnSupportAccessQueryArgsSchema,
    SupportAccessApprovalSchema,
    SupportAccessQueryArgsSchema,
    SupportAccessReasonSchema,
    SupportAccessReleaseSchema,
    SupportAccessRequestCreateSchema,
    SupportAccessRequestPageSchema,
    SupportAccessRequestSchema,
)

_ORG = "/v1/organisations/<uuid:org_id>"
_LOCATION = {"Location": {"schema": {"type": "string"}}}
_CONFLICT = "The request's status does not allow this (`support-access-status-conflict`)"

staff_blp = Blueprint(
    "support_access_requests",
    __name__,
    url_prefix="/v1/support-access-requests",
    description="Facito staff ask an organisation for access to it, and follow their requests",
)
org_blp = Blueprint(
    "organisation_support_access",
    __name__,
    url_prefix=f"{_ORG}/support-access-requests",
    description="Who from Facito asks to act inside the organisation: approve, deny, revoke",
)
log_blp = Blueprint(
    "access_log",
    __name__,
    url_prefix=f"{_ORG}/access-log",
    description="Every call Facito staff made inside the organisation, allowed or refused",
)


@staff_blp.route("")
class SupportAccessRequests(MethodView):
    @staff_blp.arguments(OwnSupportAccessQueryArgsSchema, location="query")
    @staff_blp.response(200, SupportAccessRequestPageSchema)
    @require(Permission.SupportAccessRequest)
    def get(self, args: dict[str, Any]) -> Any:
        """List your own support access requests and grants, newest first"""
        page = service.list_own_requests(
            db_session(),
            current_ctx(),
            organisation_id=args["organisation_id"],
            status=args["status"],
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(page, args)

    @staff_blp.arguments(SupportAccessRequestCreateSchema)
    @staff_blp.response(201, SupportAccessRequestSchema, headers=_LOCATION)
    @staff_blp.alt_response(
        409, description="You already have an open request or grant there (`support-access-open`)"
    )
    @require(Permission.SupportAccessRequest)
    def post(self, body: dict[str, Any]) -> Any:
        """Ask an organisation for access, with a justification, a ticket, a scope and hours
        ---
        The organisation's administrators approve or deny it (webhook
        `support.access_requested`); unanswered, it expires after
        `FACITO_SUPPORT_REQUEST_HOURS`. Where the organisation's effective policy sets
        `support_access.approval_required` to false, the grant starts at once and the
        organisation is told (`support.access_started`). `duration_hours` is at most the
        effective `support_access.max_hours`. While the grant is in force, call the
        organisation's own routes: you get what its scope allows, and every call is in the
        organisation's access log.
        """
        row = service.request_access(
            db_session(),
            current_ctx(),
            organisation_id=body["organisation_id"],
            justification=body["justification"],
            ticket_reference=body["ticket_reference"],
            access=body["access"],
            resource_kinds=body["resource_kinds"],
            duration_hours=body["duration_hours"],
            request_hours=runtime().settings.support_request_hours,
        )
        location = url_for("support_access_requests.SupportAccessRequestById", request_id=row.id)
        return row, 201, {"Location": location}


@staff_blp.route("/<uuid:request_id>")
class SupportAccessRequestById(MethodView):
    @staff_blp.response(200, SupportAccessRequestSchema)
    @require(Permission.SupportAccessRequest)
    def get(self, request_id: UUID) -> Any:
        """Read one of your own support access requests"""
        return service.get_own_request(db_session(), current_ctx(), request_id=request_id)


@staff_blp.route("/<uuid:request_id>/release")
class SupportAccessRequestRelease(MethodView):
    @staff_blp.arguments(SupportAccessReleaseSchema)
    @staff_blp.response(200, SupportAccessRequestSchema)
    @staff_blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SupportAccessRequest)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Withdraw your pending request, or end your grant now"""
        return service.release_own(
            db_session(), current_ctx(), request_id=request_id, reason=body["reason"]
        )


@org_blp.route("")
class OrganisationSupportAccessRequests(MethodView):
    @org_blp.arguments(SupportAccessQueryArgsSchema, location="query")
    @org_blp.response(200, SupportAccessRequestPageSchema)
    @require(Permission.SupportAccessRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the support access requests and grants of the organisation, newest first"""
        page = service.list_requests(
            db_session(), status=args["status"], limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)


@org_blp.route("/<uuid:request_id>")
class OrganisationSupportAccessRequestById(MethodView):
    @org_blp.response(200, SupportAccessRequestSchema)
    @require(Permission.SupportAccessRead)
    def get(self, org_id: UUID, request_id: UUID) -> Any:
        """Read a support access request of the organisation"""
        return service.get_request(db_session(), request_id=request_id)


@org_blp.route("/<uuid:request_id>/approve")
class OrganisationSupportAccessApprove(MethodView):
    @org_blp.arguments(SupportAccessApprovalSchema)
    @org_blp.response(200, SupportAccessRequestSchema)
    @org_blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SupportAccessDecide)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Approve a pending request: the grant starts now (for the hours asked, or fewer)"""
        return service.approve_request(
            db_session(),
            current_ctx(),
            request_id=request_id,
            duration_hours=body["duration_hours"],
            reason=body["reason"],
        )


@org_blp.route("/<uuid:request_id>/deny")
class OrganisationSupportAccessDeny(MethodView):
    @org_blp.arguments(SupportAccessReasonSchema)
    @org_blp.response(200, SupportAccessRequestSchema)
    @org_blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SupportAccessDecide)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Deny a pending request, saying why"""
        return service.deny_request(
            db_session(), current_ctx(), request_id=request_id, reason=body["reason"]
        )


@org_blp.route("/<uuid:request_id>/revoke")
class OrganisationSupportAccessRevoke(MethodView):
    @org_blp.arguments(SupportAccessReasonSchema)
    @org_blp.response(200, SupportAccessRequestSchema)
    @org_blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SupportAccessDecide)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """End a grant now: its holder's next call gets 404"""
        return service.revoke_grant(
            db_session(), current_ctx(), request_id=request_id, reason=body["reason"]
        )


@log_blp.route("")
class AccessLog(MethodView):
    @log_blp.doc(operationId="listAccessLog")
    @log_blp.arguments(AccessLogQueryArgsSchema, location="query")
    @log_blp.response(200, AccessLogPageSchema)
    @require(Permission.AccessLogRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the calls Facito staff made inside the organisation, newest first
        ---
        Each call, read or write, allowed or refused, with the grant it used and that grant's
        justification and ticket. They are events of the organisation's audit chain
        (`org:staff-access:call`), verified with it.
        """
        grant = args["grant_id"]
        page = list_events(
            db_session(),
            event_filter=EventFilter(
                action=SupportAccessAction.StaffCall,
                actor_oid=args["staff_member_oid"],
                target_id=None if grant is None else str(grant),
                since=args["since"],
                until=args["until"],
            ),
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(page, args)
