"""Facito's own audit log: staff actions that concern no single organisation."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, db_session, page_response, require
from . import facito_log
from .schemas import ChainReportSchema, FacitoAuditEventPageSchema, FacitoAuditEventQueryArgsSchema

blp = Blueprint(
    "facito_audit",
    __name__,
    url_prefix="/v1/facito/audit-events",
    description="Facito's own audit log (privacy statement versions), one hash chain",
)


@blp.route("")
class FacitoAuditEvents(MethodView):
    @blp.arguments(FacitoAuditEventQueryArgsSchema, location="query")
    @blp.response(200, FacitoAuditEventPageSchema)
    @require(Permission.FacitoAuditRead)
    def get(self, args: dict[str, Any]) -> Any:
        """List Facito's own audit events, newest first (Facito's DPO and operators)"""
        page = facito_log.list_facito_events(
            db_session(), action=args["action"], limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)


@blp.route("/verify")
class FacitoAuditChainVerification(MethodView):
    @blp.doc(operationId="verifyFacitoAuditChain")
    @blp.response(200, ChainReportSchema)
    @require(Permission.FacitoAuditRead)
    def get(self) -> Any:
        """Recompute Facito's own hash chain and report the first broken link"""
        return facito_log.verify_facito_chain(db_session())
