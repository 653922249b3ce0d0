"""Linked data records of an organisation's accounts: ingestion, metadata, audited content reads,
soft deletion and a summary per account."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, audited_read, current_ctx, db_session, page_response, require
from . import service
from .schemas import (
    DataRecordBatchSchema,
    DataRecordContentSchema,
    DataRecordPageSchema,
    DataRecordQueryArgsSchema,
    DataRecordSchema,
    DataSummarySchema,
    IngestResultSchema,
    content_view,
    record_filter,
    record_view,
    records_page,
)

blp = Blueprint(
    "user_data",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>",
    description="Data linked to accounts across Facito products; every read of content audited",
)


_NO_STORE = {"Cache-Control": "no-store"}


@blp.route("/data-records/batch")
class DataRecordBatch(MethodView):
    @blp.doc(operationId="ingestDataRecords")
    @blp.arguments(DataRecordBatchSchema)
    @blp.response(200, IngestResultSchema)
    @require(Permission.DataRecordsWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Upsert up to 1,000 records by (source_system, external_key): all of them, or none

        Any invalid item refuses the whole batch (422, `batch-invalid`): `errors` lists every
        error of every item with its `index`, `field` and `code`. One audit event and one
        `data_records.ingested` webhook event per batch.
        """
        return service.ingest_records(db_session(), current_ctx(), items=body["records"])


@blp.route("/accounts/<uuid:account_id>/data")
class AccountDataRecords(MethodView):
    @blp.doc(operationId="listAccountDataRecords")
    @blp.arguments(DataRecordQueryArgsSchema, location="query")
    @blp.response(200, DataRecordPageSchema)
    @require(Permission.DataRecordsRead)
    def get(self, args: dict[str, Any], org_id: UUID, account_id: UUID) -> Any:
        """List the account's data records (metadata, never content), oldest first"""
        page = service.list_records(
            db_session(),
            current_ctx(),
            account_id=account_id,
            record_filter=record_filter(args),
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(records_page(page), args)


@blp.route("/accounts/<uuid:account_id>/data/<uuid:record_id>")
class AccountDataRecordById(MethodView):
    @blp.doc(operationId="getAccountDataRecord")
    @blp.response(200, DataRecordSchema)
    @require(Permission.DataRecordsRead)
    def get(self, org_id: UUID, account_id: UUID, record_id: UUID) -> Any:
        """Read a data record's metadata (never its content)"""
        record = service.get_record(
            db_session(), current_ctx(), account_id=account_id, record_id=record_id
        )
        return record_view(record)

    @blp.doc(operationId="deleteAccountDataRecord")
    @blp.response(204)
    @require(Permission.DataRecordsWrite)
    def delete(self, org_id: UUID, account_id: UUID, record_id: UUID) -> Any:
        """Soft-delete a data record; it is purged after `retention.deleted_items_days`"""
        service.delete_record(
            db_session(), current_ctx(), account_id=account_id, record_id=record_id
        )
        return "", 204


@blp.route("/accounts/<uuid:account_id>/data/<uuid:record_id>/content")
class AccountDataRecordContent(MethodView):
    @blp.doc(operationId="readAccountDataRecordContent")
    @blp.response(200, DataRecordContentSchema)
    @require(Permission.DataContentRead)
    @audited_read(reason="who read whose content")
    def get(self, org_id: UUID, account_id: UUID, record_id: UUID) -> Any:
        """Read a data record's content; the read is recorded in the audit log"""
        record = service.read_content(
            db_session(), current_ctx(), account_id=account_id, record_id=record_id
        )
        return content_view(record), 200, _NO_STORE


@blp.route("/accounts/<uuid:account_id>/data-summary")
class AccountDataSummary(MethodView):
    @blp.doc(operationId="getAccountDataSummary")
    @blp.response(200, DataSummarySchema)
    @require(Permission.DataRecordsRead)
    def get(self, org_id: UUID, account_id: UUID) -> Any:
        """What data the account has: totals, per product and category, where it is stored"""
        return service.data_summary(db_session(), current_ctx(), account_id=account_id)
