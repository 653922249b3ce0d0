"""Facito's DPO queue of data-subject requests: personal accounts and Facito-controlled data.

Facito staff only (their tokens serve no organisation, so the session serves none);
an organisation's caller is refused for want of the `facito:` permissions, whatever its
roles, and the DPO does not reach an organisation's queue (no `org:` request permissions).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, page_response, require
from . import facito_service as service
from .filters import RequestFilter
from .schemas import (
    FacitoSubjectRequestCreateSchema,
    FacitoSubjectRequestPageSchema,
    FacitoSubjectRequestQueryArgsSchema,
    FacitoSubjectRequestSchema,
    SubjectRequestAssignSchema,
    SubjectRequestCancelSchema,
    SubjectRequestCompletionSchema,
    SubjectRequestExtensionSchema,
    SubjectRequestMessageSchema,
    SubjectRequestRejectionSchema,
    SubjectRequestResumeSchema,
    SubjectVerificationSchema,
)

_LOCATION = {"Location": {"schema": {"type": "string"}}}
_CONFLICT = "The request's status does not allow this (`dsr-status-conflict`)"

blp = Blueprint(
    "facito_data_subject_requests",
    __name__,
    url_prefix="/v1/data-subject-requests",
    description="Facito's DPO queue: requests of personal accounts, and the part of an "
    "organisation user's request about data Facito controls itself",
)


def _location(request: Any) -> str:
    return url_for(
        "facito_data_subject_requests.FacitoDataSubjectRequestById", request_id=request.id
    )


@blp.route("")
class FacitoDataSubjectRequests(MethodView):
    @blp.arguments(FacitoSubjectRequestQueryArgsSchema, location="query")
    @blp.response(200, FacitoSubjectRequestPageSchema)
    @require(Permission.FacitoRequestsRead)
    def get(self, args: dict[str, Any]) -> Any:
        """List the DPO queue's data-subject requests, newest first"""
        where = RequestFilter.from_query(args, caller=current_ctx().principal.client_key)
        page = service.list_requests(
            db_session(), where=where, limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)

    @blp.arguments(FacitoSubjectRequestCreateSchema)
    @blp.response(201, FacitoSubjectRequestSchema, headers=_LOCATION)
    @blp.alt_response(
        200,
        schema=FacitoSubjectRequestSchema,
        description="An open request of the same kind for the subject's e-mail address "
        "exists: this filing was linked to it",
    )
    @require(Permission.FacitoRequestsFile)
    def post(self, body: dict[str, Any]) -> Any:
        """Record a personal subject's data-subject request (Facito's DPO, or support from an
        e-mail or a call)
        ---
        Due after the `dsr.response_days` of the privacy statement in force (a personal
        account has no contract). One received by e-mail, phone or post waits in
        `verification_pending` until the DPO verifies the subject.
        """
        filed = service.file_request(
            db_session(),
            current_ctx(),
            display_name=body["subject"]["display_name"],
            email=body["subject"]["email"],
            kind=body["kind"],
            description=body["description"],
            scope=body["scope"],
            channel=body["channel"],
        )
        status = 201 if filed.created else 200
        return filed.request, status, {"Location": _location(filed.request)}


@blp.route("/<uuid:request_id>")
class FacitoDataSubjectRequestById(MethodView):
    @blp.response(200, FacitoSubjectRequestSchema)
    @require(Permission.FacitoRequestsRead)
    def get(self, request_id: UUID) -> Any:
        """Read a request of the DPO queue with its timeline"""
        return service.get_request(db_session(), request_id=request_id)


@blp.route("/<uuid:request_id>/verify")
class FacitoDataSubjectRequestVerify(MethodView):
    @blp.arguments(SubjectVerificationSchema)
    @blp.response(200, FacitoSubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.FacitoRequestsHandle)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Record that the subject's identity was verified; the request is routed"""
        return service.verify_request(
            db_session(),
            current_ctx(),
            request_id=request_id,
            method=body["method"],
            note=body["note"],
        )


@blp.route("/<uuid:request_id>/assign")
class FacitoDataSubjectRequestAssign(MethodView):
    @blp.arguments(SubjectRequestAssignSchema)
    @blp.response(200, FacitoSubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.FacitoRequestsHandle)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Assign the request to a handler at Facito (yourself unless named)"""
        return service.assign_request(
            db_session(),
            current_ctx(),
            request_id=request_id,
            assignee_object_id=body["assignee_object_id"],
            assignee_name=body["assignee_name"],
        )


@blp.route("/<uuid:request_id>/extend")
class FacitoDataSubjectRequestExtend(MethodView):
    @blp.arguments(SubjectRequestExtensionSchema)
    @blp.response(200, FacitoSubjectRequestSchema)
    @blp.alt_response(
        409,
        description="Not before the original due time, beyond `dsr.max_extension_days`, or "
        "the request is answered (`dsr-extension-refused`, `dsr-status-conflict`)",
    )
    @require(Permission.FacitoRequestsHandle)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Extend the response time with a reason the subject is told (GDPR art. 12(3))"""
        return service.extend_request(
            db_session(),
            current_ctx(),
            request_id=request_id,
            days=body["days"],
            reason=body["reason"],
        )


@blp.route("/<uuid:request_id>/await-subject")
class FacitoDataSubjectRequestAwaitSubject(MethodView):
    @blp.doc(operationId="awaitSubjectFacitoDataSubjectRequest")
    @blp.arguments(SubjectRequestMessageSchema)
    @blp.response(200, FacitoSubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.FacitoRequestsHandle)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Ask the subject for something; the clock stops until the request resumes"""
        return service.await_subject(
            db_session(), current_ctx(), request_id=request_id, message=body["message"]
        )


@blp.route("/<uuid:request_id>/resume")
class FacitoDataSubjectRequestResume(MethodView):
    @blp.arguments(SubjectRequestResumeSchema)
    @blp.response(200, FacitoSubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.FacitoRequestsHandle)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Go on with a request that awaited the subject; its due time moves on by the pause"""
        return service.resume_request(
            db_session(), current_ctx(), request_id=request_id, message=body["message"]
        )


@blp.route("/<uuid:request_id>/complete")
class FacitoDataSubjectRequestComplete(MethodView):
    @blp.arguments(SubjectRequestCompletionSchema)
    @blp.response(200, FacitoSubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.FacitoRequestsHandle)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Answer the request as done, with a summary the subject reads"""
        return service.complete_request(
            db_session(), current_ctx(), request_id=request_id, summary=body["summary"]
        )


@blp.route("/<uuid:request_id>/reject")
class FacitoDataSubjectRequestReject(MethodView):
    @blp.arguments(SubjectRequestRejectionSchema)
    @blp.response(200, FacitoSubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.FacitoRequestsHandle)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Refuse the request with reasons; the answer names the right to complain to the
        Autoriteit Persoonsgegevens"""
        return service.reject_request(
            db_session(), current_ctx(), request_id=request_id, reasons=body["reasons"]
        )


@blp.route("/<uuid:request_id>/cancel")
class FacitoDataSubjectRequestCancel(MethodView):
    @blp.arguments(SubjectRequestCancelSchema)
    @blp.response(200, FacitoSubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.FacitoRequestsHandle)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Cancel a request of the DPO queue filed by mistake or withdrawn by the subject
        ---
        Only this part: the organisation's part of a split request is the organisation's.
        """
        return service.cancel_request(
            db_session(), current_ctx(), request_id=request_id, reason=body["reason"]
        )
