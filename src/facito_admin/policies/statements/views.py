"""Privacy statement versions: published ones for every caller, drafts for Facito's DPO."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ...auth.permissions import Permission
from ...common.pagination import PageArgsSchema
from ...db.base import utcnow
from ...errors import NotFound
from ...http import (
    IF_MATCH_DOC,
    IF_MATCH_OPTIONAL_DOC,
    Blueprint,
    authenticate,
    current_ctx,
    db_session,
    if_match,
    optional_if_match,
    page_response,
    require,
    runtime,
    with_etag,
)
from . import drafts, objections
from . import service as statements
from .schemas import (
    ChangeLogSchema,
    DiffQueryArgsSchema,
    InForceQueryArgsSchema,
    ObjectionPageSchema,
    StatementCreateSchema,
    StatementDiffSchema,
    StatementPageSchema,
    StatementQueryArgsSchema,
    StatementSchema,
    StatementUpdateSchema,
)

blp = Blueprint(
    "privacy_statements",
    __name__,
    url_prefix="/v1/privacy-statements",
    description="Versions of Facito's privacy statement: the default policy, its change log",
)


def _sees_drafts() -> bool:
    return authenticate().can(Permission.StatementsReadDrafts)


@blp.route("")
class PrivacyStatements(MethodView):
    @blp.arguments(StatementQueryArgsSchema, location="query")
    @blp.response(200, StatementPageSchema)
    @require()
    def get(self, args: dict[str, Any]) -> Any:
        """List statement versions, oldest first (drafts only for Facito's DPO and operators)"""
        page = statements.list_statements(
            db_session(),
            include_drafts=_sees_drafts(),
            status=args["status"],
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(page, args)

    @blp.arguments(StatementCreateSchema)
    @blp.response(201, StatementSchema, headers={"Location": {"schema": {"type": "string"}}})
    @require(Permission.StatementsWrite)
    def post(self, body: dict[str, Any]) -> Any:
        """Draft a new statement version (Facito's DPO)"""
        statement = drafts.create_draft(db_session(), current_ctx(), **body)
        location = url_for("privacy_statements.PrivacyStatementById", statement_id=statement.id)
        return with_etag(statement, 201, {"Location": location})


@blp.route("/in-force")
class PrivacyStatementInForce(MethodView):
    @blp.doc(operationId="getPrivacyStatementInForce")
    @blp.arguments(InForceQueryArgsSchema, location="query")
    @blp.response(200, StatementSchema)
    @require()
    def get(self, args: dict[str, Any]) -> Any:
        """The version in force at an instant (`at`, default now); 404 when none was"""
        at = args["at"] or utcnow()
        statement = statements.statement_in_force(db_session(), at=at)
        if statement is None:
            raise NotFound(f"no privacy statement version was in force at {at.isoformat()}")
        return with_etag(statement)


@blp.route("/change-log")
class PrivacyStatementChangeLog(MethodView):
    @blp.doc(operationId="getPrivacyStatementChangeLog")
    @blp.response(200, ChangeLogSchema)
    @require()
    def get(self) -> Any:
        """The change log of all published versions, newest first ("wijzigingsoverzicht")"""
        return {"items": statements.change_log(db_session())}


@blp.route("/diff")
class PrivacyStatementDiff(MethodView):
    @blp.doc(operationId="diffPrivacyStatements")
    @blp.arguments(DiffQueryArgsSchema, location="query")
    @blp.response(200, StatementDiffSchema)
    @require()
    def get(self, args: dict[str, Any]) -> Any:
        """Compare two versions: parameters key by key, change log between, texts per language"""
        return statements.compare_statements(
            db_session(), from_ref=args["from_"], to_ref=args["to"], include_drafts=_sees_drafts()
        )


@blp.route("/<uuid:statement_id>")
class PrivacyStatementById(MethodView):
    @blp.response(200, StatementSchema)
    @require()
    def get(self, statement_id: UUID) -> Any:
        """Read one statement version"""
        statement = statements.get_statement(
            db_session(), statement_id=statement_id, include_drafts=_sees_drafts()
        )
        return with_etag(statement)

    @blp.arguments(StatementUpdateSchema)
    @blp.response(200, StatementSchema)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.StatementsWrite)
    def patch(self, body: dict[str, Any], statement_id: UUID) -> Any:
        """Change a draft (If-Match required); published versions are immutable (409)"""
        statement = drafts.update_draft(
            db_session(),
            current_ctx(),
            statement_id=statement_id,
            if_match=if_match(),
            updates=body,
        )
        return with_etag(statement)

    @blp.response(204)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.StatementsWrite)
    def delete(self, statement_id: UUID) -> Any:
        """Delete a draft (If-Match required); published versions stay (409)"""
        drafts.delete_draft(
            db_session(), current_ctx(), statement_id=statement_id, if_match=if_match()
        )
        return None


@blp.route("/<uuid:statement_id>/publish")
class PrivacyStatementPublish(MethodView):
    @blp.response(200, StatementSchema)
    @blp.doc(**IF_MATCH_OPTIONAL_DOC)
    @require(Permission.StatementsWrite)
    def post(self, statement_id: UUID) -> Any:
        """Publish a draft now; every organisation is notified (material: notice period applies)"""
        statement = drafts.publish_statement(
            db_session(),
            current_ctx(),
            statement_id=statement_id,
            if_match=optional_if_match(),
        )
        return with_etag(statement)


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
