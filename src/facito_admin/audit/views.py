"""The organisation's audit log: query, export, and verification of its hash chain."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, stream_with_context
from flask.views import MethodView

from ..auth.permissions import Permission
from ..db.base import utcnow
from ..http import Blueprint, db_session, page_response, require, runtime
from . import service, verification
from .export import CONTENT_TYPES, ExportFormat
from .schemas import (
    AuditEventPageSchema,
    AuditEventQueryArgsSchema,
    AuditExportArgsSchema,
    AuditVerifyArgsSchema,
    OrganisationChainReportSchema,
)
from .service import EventFilter

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/audit-events",
    description="The organisation's audit log, one hash chain per organisation",
)

_TEXT = {"type": "string"}


def _event_filter(args: dict[str, Any]) -> EventFilter:
    return EventFilter(
        actor_oid=args["actor"],
        action=args["action"],
        target_id=args["target"],
        since=args["since"],
        until=args["until"],
    )


@blp.route("")
class AuditEvents(MethodView):
    @blp.arguments(AuditEventQueryArgsSchema, location="query")
    @blp.response(200, AuditEventPageSchema)
    @require(Permission.AuditRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's audit events (newest first unless order=asc)"""
        page = service.list_events(
            db_session(),
            event_filter=_event_filter(args),
            limit=args["limit"],
            cursor=args["cursor"],
            descending=args["order"] == "desc",
        )
        return page_response(page, args)


@blp.route("/export")
class AuditEventExport(MethodView):
    @blp.doc(operationId="exportAuditEvents")
    @blp.arguments(AuditExportArgsSchema, location="query")
    @blp.response(200, _TEXT, content_type="application/x-ndjson")
    @blp.alt_response(200, schema=_TEXT, content_type="text/csv", success=True)
    @require(Permission.AuditRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """Export the organisation's audit events as JSON lines or CSV (streamed)
        ---
        JSON lines carry the canonical values of each event with its hashes, so a consumer can
        recompute the chain. CSV cells that a spreadsheet would run as a formula get a leading
        apostrophe. Rows appended while the export runs are not included.
        """
        fmt: ExportFormat = args["fmt"]
        # The request's session is committed and closed before a streamed body is sent; the
        # export reads through sessions of its own (see service.stream_events).
        body = service.export_events(
            runtime(),
            organisation_id=org_id,
            event_filter=_event_filter(args),
            fmt=fmt,
            descending=args["order"] == "desc",
        )
        filename = f"audit-events-{org_id}-{utcnow():%Y%m%dT%H%M%SZ}.{fmt.value}"
        return Response(
            stream_with_context(body),
            status=200,
            content_type=CONTENT_TYPES[fmt],
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


@blp.route("/verify")
class AuditChainVerification(MethodView):
    @blp.doc(operationId="verifyAuditChain")
    @blp.arguments(AuditVerifyArgsSchema, location="query")
    @blp.response(200, OrganisationChainReportSchema)
    @require(Permission.AuditRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """Recompute the organisation's hash chain and report the first broken link
        ---
        Events past the organisation's `audit.retention_days` are pruned; the chain is then
        verified from the checkpoint of the last pruned event (`pruned`): the first remaining
        event must link to `pruned.through_hash`.

        A chain rewritten together with every later hash and its head still verifies; a signed
        checkpoint kept outside Facito does not let that pass. Given `checkpoint` (a compact
        JWS of this organisation, signed by a key of `/.well-known/facito-audit-keys`), the
        report's `checkpoint` says whether today's chain extends it. A checkpoint that is
        malformed, forged, signed by an unknown key or of another organisation is refused with
        422 `checkpoint-rejected` and its `reason`.
        """
        return verification.verify_organisation_chain(db_session(), checkpoint=args["checkpoint"])
