"""SCIM tokens of an organisation (organisation admins): create, list, read, revoke."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, page_response, require
from . import tokens
from .token_schemas import (
    ScimTokenCreatedSchema,
    ScimTokenCreateSchema,
    ScimTokenPageSchema,
    ScimTokenQueryArgsSchema,
    ScimTokenSchema,
)

blp = Blueprint(
    "scim_tokens",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/scim-tokens",
    description="Bearer tokens for the SCIM 2.0 endpoint /scim/v2 (Entra ID provisioning)",
)


@blp.route("")
class ScimTokens(MethodView):
    @blp.arguments(ScimTokenQueryArgsSchema, location="query")
    @blp.response(200, ScimTokenPageSchema)
    @require(Permission.ScimTokensRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's SCIM tokens (never their secrets)"""
        page = tokens.list_tokens(db_session(), limit=args["limit"], cursor=args["cursor"])
        return page_response(page, args)

    @blp.arguments(ScimTokenCreateSchema)
    @blp.response(201, ScimTokenCreatedSchema, headers={"Location": {"schema": {"type": "string"}}})
    @require(Permission.ScimTokensWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Create a SCIM token; the answer shows its secret once
        ---
        Give the `token` to the provisioning client as its bearer token, with the tenant URL
        `https://<host>/scim/v2`. Only a hash of the secret is kept.
        """
        token, value = tokens.create_token(
            db_session(),
            current_ctx(),
            description=body["description"],
            expires_at=body["expires_at"],
        )
        location = url_for("scim_tokens.ScimTokenById", org_id=org_id, token_id=token.id)
        created = {name: getattr(token, name) for name in ScimTokenSchema().fields}
        # no-store: caches and the Idempotency-Key store keep no copy of the secret.
        return {**created, "token": value}, 201, {"Location": location, "Cache-Control": "no-store"}


@blp.route("/<uuid:token_id>")
class ScimTokenById(MethodView):
    @blp.response(200, ScimTokenSchema)
    @require(Permission.ScimTokensRead)
    def get(self, org_id: UUID, token_id: UUID) -> Any:
        """Read a SCIM token (without its secret)"""
        return tokens.get_token(db_session(), token_id=token_id)


@blp.route("/<uuid:token_id>/revoke")
class ScimTokenRevoke(MethodView):
    @blp.response(200, ScimTokenSchema)
    @blp.alt_response(409, description="Already revoked")
    @require(Permission.ScimTokensWrite)
    def post(self, org_id: UUID, token_id: UUID) -> Any:
        """Revoke a SCIM token; it is refused from now on"""
        return tokens.revoke_token(db_session(), current_ctx(), token_id=token_id)
