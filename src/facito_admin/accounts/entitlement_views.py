"""The products each account may use (entitlements); access ends with the account."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, page_response, require
from . import entitlements
from .entitlement_schemas import (
    EntitlementGrantSchema,
    EntitlementPageSchema,
    EntitlementQueryArgsSchema,
    EntitlementSchema,
)

blp = Blueprint(
    "entitlements",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/accounts/<uuid:account_id>/products",
    description="Products an account may use; access ends with the account",
)


@blp.route("")
class Entitlements(MethodView):
    @blp.arguments(EntitlementQueryArgsSchema, location="query")
    @blp.response(200, EntitlementPageSchema)
    @require(Permission.EntitlementsRead)
    def get(self, args: dict[str, Any], org_id: UUID, account_id: UUID) -> Any:
        """List the account's entitlements, active and ended"""
        page = entitlements.list_entitlements(
            db_session(),
            account_id=account_id,
            active=args["active"],
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(page, args)

    @blp.doc(operationId="grantEntitlement")
    @blp.arguments(EntitlementGrantSchema)
    @blp.response(201, EntitlementSchema, headers={"Location": {"schema": {"type": "string"}}})
    @require(Permission.EntitlementsWrite)
    def post(self, body: dict[str, Any], org_id: UUID, account_id: UUID) -> Any:
        """Grant the account a product (active accounts only)"""
        entitlement = entitlements.grant_entitlement(
            db_session(), current_ctx(), account_id=account_id, product_code=body["product_code"]
        )
        location = url_for(
            "entitlements.EntitlementByProduct",
            org_id=org_id,
            account_id=account_id,
            product_code=entitlement.product_code,
        )
        return entitlement, 201, {"Location": location}


@blp.route("/<string:product_code>")
class EntitlementByProduct(MethodView):
    @blp.response(200, EntitlementSchema)
    @require(Permission.EntitlementsRead)
    def get(self, org_id: UUID, account_id: UUID, product_code: str) -> Any:
        """Read the account's active entitlement to a product"""
        return entitlements.get_active_entitlement(
            db_session(), account_id=account_id, product_code=product_code
        )

    @blp.doc(operationId="revokeEntitlement")
    @blp.response(204)
    @require(Permission.EntitlementsWrite)
    def delete(self, org_id: UUID, account_id: UUID, product_code: str) -> None:
        """Revoke the account's product; it does not come back when the account is enabled"""
        entitlements.revoke_entitlement(
            db_session(), current_ctx(), account_id=account_id, product_code=product_code
        )
