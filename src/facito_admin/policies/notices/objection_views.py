"""Facito's staff read the organisations' objections to a statement version's additions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from ...auth.permissions import Permission
from ...common.pagination import PageArgsSchema
from ...http import Blueprint, page_response, require, runtime
from . import objections
from .schemas import ObjectionPageSchema

blp = Blueprint(
    "subprocessor_objections",
    __name__,
    url_prefix="/v1/privacy-statements",
    description="Objections of organisations to the subprocessors and regions a privacy "
    "statement version adds (GDPR art. 28(2))",
)


@blp.route("/<uuid:statement_id>/objections")
class PrivacyStatementObjections(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ObjectionPageSchema)
    @require(Permission.ObjectionsRead)
    def get(self, args: dict[str, Any], statement_id: UUID) -> Any:
        """The organisations' objections to the subprocessors or regions a version adds"""
        page = objections.list_objections(
            runtime(), statement_id=statement_id, limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)
