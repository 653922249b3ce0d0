"""Contracts of an organisation: operators record and end them, the organisation reads them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ...auth.permissions import Permission
from ...http import (
    ETAG_DOC,
    IF_MATCH_DOC,
    Blueprint,
    current_ctx,
    db_session,
    if_match,
    page_response,
    require,
    with_etag,
)
from . import service
from .schemas import (
    ContractCreateSchema,
    ContractPageSchema,
    ContractQueryArgsSchema,
    ContractSchema,
    ContractTerminateSchema,
    ContractUpdateSchema,
)

blp = Blueprint(
    "contracts",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/contracts",
    description="Contracts with Facito: covered products, Facito's roles, policy overrides",
)


@blp.route("")
class Contracts(MethodView):
    @blp.arguments(ContractQueryArgsSchema, location="query")
    @blp.response(200, ContractPageSchema)
    @require(Permission.ContractsRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's contracts in the order they take effect"""
        page = service.list_contracts(db_session(), limit=args["limit"], cursor=args["cursor"])
        return page_response(page, args)

    @blp.arguments(ContractCreateSchema)
    @blp.response(
        201, ContractSchema, headers={"Location": {"schema": {"type": "string"}}, **ETAG_DOC}
    )
    @require(Permission.ContractsWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Record a signed contract (Facito operators); periods must not overlap
        ---
        A contract that makes the organisation's current regions break the effective policy
        is recorded all the same (it was signed): the organisation's `residency_status` shows
        the problems and an `org:residency:invalid` audit event is recorded.
        """
        contract = service.create_contract(db_session(), current_ctx(), **body)
        location = url_for("contracts.ContractById", org_id=org_id, contract_id=contract.id)
        return with_etag(contract, 201, {"Location": location})


@blp.route("/<uuid:contract_id>")
class ContractById(MethodView):
    @blp.response(200, ContractSchema, headers=ETAG_DOC)
    @require(Permission.ContractsRead)
    def get(self, org_id: UUID, contract_id: UUID) -> Any:
        """Read a contract"""
        return with_etag(service.get_contract(db_session(), contract_id=contract_id))

    @blp.arguments(ContractUpdateSchema)
    @blp.response(200, ContractSchema, headers=ETAG_DOC)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.ContractsWrite)
    def patch(self, body: dict[str, Any], org_id: UUID, contract_id: UUID) -> Any:
        """Correct or extend a contract (If-Match required)
        ---
        Before it takes effect every field may change. Once in force its products, overrides
        and start are fixed (409 `contract-in-force`): terminate it and record the amendment
        as a new contract. Reference, signing date and an end still ahead may change.
        """
        contract = service.update_contract(
            db_session(), current_ctx(), contract_id=contract_id, if_match=if_match(), changes=body
        )
        return with_etag(contract)

    @blp.response(204)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.ContractsWrite)
    def delete(self, org_id: UUID, contract_id: UUID) -> Any:
        """Delete a contract recorded by mistake (If-Match required); only before it takes effect"""
        service.delete_contract(
            db_session(), current_ctx(), contract_id=contract_id, if_match=if_match()
        )
        return "", 204


@blp.route("/<uuid:contract_id>/terminate")
class ContractTerminate(MethodView):
    @blp.arguments(ContractTerminateSchema)
    @blp.response(200, ContractSchema, headers=ETAG_DOC)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.ContractsWrite)
    def post(self, body: dict[str, Any], org_id: UUID, contract_id: UUID) -> Any:
        """End a contract in force, now or later (If-Match required)"""
        contract = service.terminate_contract(
            db_session(),
            current_ctx(),
            contract_id=contract_id,
            if_match=if_match(),
            effective_to=body["effective_to"],
            reason=body["reason"],
        )
        return with_etag(contract)
