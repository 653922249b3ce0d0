"""Notices Facito sends an organisation (e.g. a new privacy statement version); acknowledging."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from ...auth.permissions import Permission
from ...http import (
    Blueprint,
    current_ctx,
    db_session,
    exempt_from_audit,
    page_response,
    require,
)
from . import objections
from . import service as notices
from .schemas import NoticePageSchema, NoticeQueryArgsSchema, NoticeSchema, ObjectionCreateSchema

blp = Blueprint(
    "notices",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/notices",
    description="What Facito told the organisation, e.g. a new privacy statement version",
)


@blp.route("")
class Notices(MethodView):
    @blp.arguments(NoticeQueryArgsSchema, location="query")
    @blp.response(200, NoticePageSchema)
    @require(Permission.NoticesRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's notices, newest first"""
        page = notices.list_notices(
            db_session(),
            acknowledged=args["acknowledged"],
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(page, args)


@blp.route("/<uuid:notice_id>")
class NoticeById(MethodView):
    @blp.response(200, NoticeSchema)
    @require(Permission.NoticesRead)
    def get(self, org_id: UUID, notice_id: UUID) -> Any:
        """Read one notice"""
        return notices.get_notice(db_session(), notice_id=notice_id)


@blp.route("/<uuid:notice_id>/acknowledge")
class NoticeAcknowledge(MethodView):
    @blp.response(200, NoticeSchema)
    @require(Permission.NoticesWrite)
    def post(self, org_id: UUID, notice_id: UUID) -> Any:
        """Acknowledge a notice (once; who and when are recorded)"""
        return notices.acknowledge_notice(db_session(), current_ctx(), notice_id=notice_id)


@blp.route("/<uuid:notice_id>/objection")
class NoticeObjection(MethodView):
    @blp.arguments(ObjectionCreateSchema)
    @blp.response(200, NoticeSchema)
    @require(Permission.NoticesObject)
    def post(self, body: dict[str, Any], org_id: UUID, notice_id: UUID) -> Any:
        """Object to the subprocessors or regions a statement version adds (GDPR art. 28(2))
        ---
        Only while the notice's objection window is open (until the version takes effect);
        once per notice: the same reason again answers as the first time did (409 for another).
        """
        notice, recorded = objections.object_to_notice(
            db_session(), current_ctx(), notice_id=notice_id, reason=body["reason"]
        )
        if not recorded:
            exempt_from_audit("the same objection was recorded already")
        return notice
