"""The signed-in person's own data-subject requests: file, follow, answer, withdraw."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..common.pagination import PageArgsSchema
from ..http import Blueprint, current_ctx, db_session, page_response, require
from ..subject_requests import service
from ..subject_requests.schemas import (
    OwnSubjectRequestCreateSchema,
    OwnSubjectRequestPageSchema,
    OwnSubjectRequestSchema,
    SubjectRequestCancelSchema,
    SubjectRequestMessageSchema,
)

_LOCATION = {"Location": {"schema": {"type": "string"}}}

blp = Blueprint(
    "me_data_subject_requests",
    __name__,
    url_prefix="/v1/me/data-subject-requests",
    description="The caller's own data-subject requests (GDPR rights), answered by their "
    "organisation",
)


def _location(request: Any) -> str:
    return url_for("me_data_subject_requests.OwnDataSubjectRequestById", request_id=request.id)


@blp.route("")
class OwnDataSubjectRequests(MethodView):
    @blp.doc(operationId="listOwnDataSubjectRequests")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, OwnSubjectRequestPageSchema)
    @require(Permission.SelfRequestsRead)
    def get(self, args: dict[str, Any]) -> Any:
        """List your own data-subject requests, newest first"""
        page = service.list_own_requests(
            db_session(), current_ctx(), limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)

    @blp.doc(operationId="fileOwnDataSubjectRequest")
    @blp.arguments(OwnSubjectRequestCreateSchema)
    @blp.response(201, OwnSubjectRequestSchema, headers=_LOCATION)
    @blp.alt_response(
        200,
        schema=OwnSubjectRequestSchema,
        description="You have an open request of the same kind: this one was added to it",
    )
    @require(Permission.SelfRequestsFile)
    def post(self, body: dict[str, Any]) -> Any:
        """Exercise a right over your data, or ask a privacy question
        ---
        Your organisation manages your account and answers (it is the controller), within
        the response days of its effective policy; data Facito controls itself is answered by
        Facito's DPO as a linked request.
        """
        filed = service.file_own_request(
            db_session(),
            current_ctx(),
            kind=body["kind"],
            description=body["description"],
            scope=body["scope"],
        )
        return filed.request, 201 if filed.created else 200, {"Location": _location(filed.request)}


@blp.route("/<uuid:request_id>")
class OwnDataSubjectRequestById(MethodView):
    @blp.doc(operationId="getOwnDataSubjectRequest")
    @blp.response(200, OwnSubjectRequestSchema)
    @require(Permission.SelfRequestsRead)
    def get(self, request_id: UUID) -> Any:
        """Read one of your requests: status, due time, timeline and outcome"""
        return service.get_own_request(db_session(), current_ctx(), request_id=request_id)


@blp.route("/<uuid:request_id>/answer")
class OwnDataSubjectRequestAnswer(MethodView):
    @blp.doc(operationId="answerOwnDataSubjectRequest")
    @blp.arguments(SubjectRequestMessageSchema)
    @blp.response(200, OwnSubjectRequestSchema)
    @blp.alt_response(409, description="The request is not awaiting you")
    @require(Permission.SelfRequestsFile)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Answer what your request awaits; its clock runs again"""
        return service.answer_own_request(
            db_session(), current_ctx(), request_id=request_id, message=body["message"]
        )


@blp.route("/<uuid:request_id>/cancel")
class OwnDataSubjectRequestCancel(MethodView):
    @blp.doc(operationId="cancelOwnDataSubjectRequest")
    @blp.arguments(SubjectRequestCancelSchema)
    @blp.response(200, OwnSubjectRequestSchema)
    @blp.alt_response(409, description="The request is already answered")
    @require(Permission.SelfRequestsFile)
    def post(self, body: dict[str, Any], request_id: UUID) -> Any:
        """Withdraw one of your requests
        ---
        Its part answered by Facito's DPO, if any, is withdrawn too (unless already answered).
        """
        return service.cancel_own_request(
            db_session(), current_ctx(), request_id=request_id, reason=body["reason"]
        )
