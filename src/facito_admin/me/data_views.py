"""The employee's own linked data: its summary, records and content (content reads audited).

The same service functions as the administrators' routes (user_data/views.py), on the caller's
own account: a record of anyone else is not found.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, audited_read, current_ctx, db_session, page_response, require
from ..user_data import service
from ..user_data.schemas import (
    DataRecordContentSchema,
    DataRecordPageSchema,
    DataRecordQueryArgsSchema,
    DataSummarySchema,
    content_view,
    record_filter,
    records_page,
)

blp = Blueprint(
    "me_data", __name__, url_prefix="/v1/me/data", description="The caller's own linked data"
)
_NO_STORE = {"Cache-Control": "no-store"}


@blp.route("")
class OwnData(MethodView):
    @blp.doc(operationId="getOwnData")
    @blp.response(200, DataSummarySchema)
    @require(Permission.SelfDataRead)
    def get(self) -> Any:
        """What data of yours Facito's products hold: totals, per product and category, where"""
        return service.own_data_summary(db_session(), current_ctx())


@blp.route("/records")
class OwnDataRecords(MethodView):
    @blp.doc(operationId="listOwnDataRecords")
    @blp.arguments(DataRecordQueryArgsSchema, location="query")
    @blp.response(200, DataRecordPageSchema)
    @require(Permission.SelfDataRead)
    def get(self, args: dict[str, Any]) -> Any:
        """List your own data records (metadata, never content), oldest first"""
        page = service.list_own_records(
            db_session(),
            current_ctx(),
            record_filter=record_filter(args),
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(records_page(page), args)


@blp.route("/records/<uuid:record_id>/content")
class OwnDataRecordContent(MethodView):
    @blp.doc(operationId="readOwnDataRecordContent")
    @blp.response(200, DataRecordContentSchema)
    @require(Permission.SelfDataRead)
    @audited_read(reason="who read their own content")
    def get(self, record_id: UUID) -> Any:
        """Read the content of one of your records; the read is recorded in the audit log"""
        record = service.read_own_content(db_session(), current_ctx(), record_id=record_id)
        return content_view(record), 200, _NO_STORE
