"""The organisation's queue of data-subject requests (the organisation is the controller)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import (
    Blueprint,
    audited_read,
    current_ctx,
    db_session,
    page_response,
    require,
    zip_download,
)
from ..jobs.schemas import JobSchema
from . import export, service
from .filters import RequestFilter
from .schemas import (
    SubjectRequestAssignSchema,
    SubjectRequestCancelSchema,
    SubjectRequestCompletionSchema,
    SubjectRequestCreateSchema,
    SubjectRequestExtensionSchema,
    SubjectRequestMessageSchema,
    SubjectRequestPageSchema,
    SubjectRequestQueryArgsSchema,
    SubjectRequestRejectionSchema,
    SubjectRequestResumeSchema,
    SubjectRequestSchema,
    SubjectVerificationSchema,
)

_LOCATION = {"Location": {"schema": {"type": "string"}}}
_CONFLICT = "The request's status does not allow this (`dsr-status-conflict`)"

blp = Blueprint(
    "data_subject_requests",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/data-subject-requests",
    description="The organisation's data-subject requests: it is the controller and answers",
)


def _location(request: Any) -> str:
    return url_for(
        "data_subject_requests.DataSubjectRequestById",
        org_id=request.organisation_id,
        request_id=request.id,
    )


@blp.route("")
class DataSubjectRequests(MethodView):
    @blp.arguments(SubjectRequestQueryArgsSchema, location="query")
    @blp.response(200, SubjectRequestPageSchema)
    @require(Permission.SubjectRequestsRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's data-subject requests, newest first"""
        where = RequestFilter.from_query(args, caller=current_ctx().principal.client_key)
        page = service.list_requests(
            db_session(), where=where, limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)

    @blp.arguments(SubjectRequestCreateSchema)
    @blp.response(201, SubjectRequestSchema, headers=_LOCATION)
    @blp.alt_response(
        200,
        schema=SubjectRequestSchema,
        description="An open request of the same kind for the subject exists: this filing "
        "was linked to it",
    )
    @require(Permission.SubjectRequestsFile)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """File a data-subject request for an account of the organisation
        ---
        The request is routed by rule (the organisation's part here; data Facito controls
        itself goes to Facito's DPO as a linked request) and is due after the effective
        `dsr.response_days`. One received by e-mail, phone or post waits in
        `verification_pending` until someone verifies the subject.
        """
        filed = service.file_request(
            db_session(),
            current_ctx(),
            account_id=body["account_id"],
            kind=body["kind"],
            description=body["description"],
            scope=body["scope"],
            channel=body["channel"],
            on_behalf_of=body["on_behalf_of"],
            guardian_consent_id=body["guardian_consent_id"],
        )
        status = 201 if filed.created else 200
        return filed.request, status, {"Location": _location(filed.request)}


@blp.route("/<uuid:request_id>")
class DataSubjectRequestById(MethodView):
    @blp.response(200, SubjectRequestSchema)
    @require(Permission.SubjectRequestsRead)
    def get(self, org_id: UUID, request_id: UUID) -> Any:
        """Read a data-subject request with its timeline"""
        return service.get_request(db_session(), request_id=request_id)


@blp.route("/<uuid:request_id>/verify")
class DataSubjectRequestVerify(MethodView):
    @blp.arguments(SubjectVerificationSchema)
    @blp.response(200, SubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SubjectRequestsHandle)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Record that the subject's identity was verified; the request is routed"""
        return service.verify_request(
            db_session(),
            current_ctx(),
            request_id=request_id,
            method=body["method"],
            note=body["note"],
        )


@blp.route("/<uuid:request_id>/assign")
class DataSubjectRequestAssign(MethodView):
    @blp.arguments(SubjectRequestAssignSchema)
    @blp.response(200, SubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SubjectRequestsHandle)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Assign the request to a handler (yourself unless named); only they download its
        export"""
        return service.assign_request(
            db_session(),
            current_ctx(),
            request_id=request_id,
            assignee_object_id=body["assignee_object_id"],
            assignee_name=body["assignee_name"],
        )


@blp.route("/<uuid:request_id>/extend")
class DataSubjectRequestExtend(MethodView):
    @blp.arguments(SubjectRequestExtensionSchema)
    @blp.response(200, SubjectRequestSchema)
    @blp.alt_response(
        409,
        description="Not before the original due time, beyond `dsr.max_extension_days`, or "
        "the request is answered (`dsr-extension-refused`, `dsr-status-conflict`)",
    )
    @require(Permission.SubjectRequestsHandle)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Extend the response time with a reason the subject is told (GDPR art. 12(3))"""
        return service.extend_request(
            db_session(),
            current_ctx(),
            request_id=request_id,
            days=body["days"],
            reason=body["reason"],
        )


@blp.route("/<uuid:request_id>/await-subject")
class DataSubjectRequestAwaitSubject(MethodView):
    @blp.arguments(SubjectRequestMessageSchema)
    @blp.response(200, SubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SubjectRequestsHandle)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Ask the subject for something; the clock stops until the request resumes"""
        return service.await_subject(
            db_session(), current_ctx(), request_id=request_id, message=body["message"]
        )


@blp.route("/<uuid:request_id>/resume")
class DataSubjectRequestResume(MethodView):
    @blp.arguments(SubjectRequestResumeSchema)
    @blp.response(200, SubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SubjectRequestsHandle)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Go on with a request that awaited the subject; its due time moves on by the pause"""
        return service.resume_request(
            db_session(), current_ctx(), request_id=request_id, message=body["message"]
        )


@blp.route("/<uuid:request_id>/fulfil")
class DataSubjectRequestFulfil(MethodView):
    @blp.doc(operationId="fulfilDataSubjectRequest")
    @blp.response(202, JobSchema, headers=_LOCATION)
    @blp.alt_response(
        409,
        description="A question is answered, not fulfilled; the request is answered or its "
        "fulfilment is under way",
    )
    @require(Permission.SubjectRequestsHandle)
    def post(self, org_id: UUID, request_id: UUID) -> Any:
        """Carry the request out in the background: export, erasure, rectification,
        restriction, or the preferences an objection or withdrawal names
        ---
        Returns the job (`Location`); the request's `results` hold what it produced.
        """
        _, job = service.start_fulfilment(db_session(), current_ctx(), request_id=request_id)
        return job, 202, {"Location": url_for("jobs.JobById", org_id=org_id, job_id=job.id)}


@blp.route("/<uuid:request_id>/complete")
class DataSubjectRequestComplete(MethodView):
    @blp.arguments(SubjectRequestCompletionSchema)
    @blp.response(200, SubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SubjectRequestsHandle)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Answer the request as done, with a summary the subject reads"""
        return service.complete_request(
            db_session(), current_ctx(), request_id=request_id, summary=body["summary"]
        )


@blp.route("/<uuid:request_id>/reject")
class DataSubjectRequestReject(MethodView):
    @blp.arguments(SubjectRequestRejectionSchema)
    @blp.response(200, SubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SubjectRequestsHandle)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Refuse the request with reasons; the answer names the right to complain to the
        Autoriteit Persoonsgegevens"""
        return service.reject_request(
            db_session(), current_ctx(), request_id=request_id, reasons=body["reasons"]
        )


@blp.route("/<uuid:request_id>/cancel")
class DataSubjectRequestCancel(MethodView):
    @blp.arguments(SubjectRequestCancelSchema)
    @blp.response(200, SubjectRequestSchema)
    @blp.alt_response(409, description=_CONFLICT)
    @require(Permission.SubjectRequestsHandle)
    def post(self, body: dict[str, Any], org_id: UUID, request_id: UUID) -> Any:
        """Cancel a request filed by mistake or withdrawn by the subject
        ---
        A request split with Facito's DPO is withdrawn from the DPO's queue too, unless the
        DPO has answered its part.
        """
        return service.cancel_request(
            db_session(), current_ctx(), request_id=request_id, reason=body["reason"]
        )


@blp.route("/<uuid:request_id>/export")
class DataSubjectRequestExport(MethodView):
    @blp.doc(operationId="downloadDataSubjectRequestExport")
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="application/zip",
        description="The export: a ZIP with manifest.json, the profile, products, preferences "
        "and their changes, guardian consents, and records/<category>.json and .csv",
    )
    @blp.alt_response(
        403,
        description="The caller lacks `org:data-subject-requests:handle` (`forbidden`) or is "
        "not the request's assignee (`dsr-export-not-assignee`)",
    )
    @blp.alt_response(
        409,
        description="No export yet: fulfil the request and wait for its job "
        "(`dsr-export-not-ready`)",
    )
    @blp.alt_response(410, description="The export expired and was deleted (`dsr-export-expired`)")
    @require(Permission.SubjectRequestsHandle)
    @audited_read(reason="who downloaded whose export")
    def get(self, org_id: UUID, request_id: UUID) -> Any:
        """Download the export of an access or portability request (its assignee only)
        ---
        The ZIP that the request's fulfilment wrote, until it expires (`FACITO_EXPORT_DAYS`
        after it was written; the request's `results.export` says when). Each download is
        recorded in the audit log.
        """
        return zip_download(export.open_export(db_session(), current_ctx(), request_id=request_id))
