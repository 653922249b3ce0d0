"""The organisation's audit checkpoints, and the public keys that verify them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from ..audit.checkpoints import list_checkpoints
from ..auth.permissions import Permission
from ..common.pagination import PageArgsSchema
from ..http import Blueprint, current_ctx, db_session, page_response, require, runtime
from . import service
from .schemas import AuditCheckpointPageSchema, AuditCheckpointSchema, JsonWebKeySetSchema

blp = Blueprint(
    "audit_checkpoints",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/audit-checkpoints",
    description="Signed checkpoints of the organisation's audit chain head, to keep outside",
)
keys_blp = Blueprint(
    "audit_keys",
    __name__,
    url_prefix="/.well-known",
    description="The public keys of Facito's audit checkpoints",
)

# The keys change only with a rotation, which keeps the old ones served: an hour is safe.
_KEYS_CACHE = {"Cache-Control": "public, max-age=3600"}


@blp.route("")
class AuditCheckpoints(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, AuditCheckpointPageSchema)
    @require(Permission.AuditRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's audit checkpoints, newest first"""
        page = list_checkpoints(db_session(), limit=args["limit"], cursor=args["cursor"])
        return page_response(page, args)

    @blp.response(201, AuditCheckpointSchema)
    @require(Permission.AuditCheckpointsWrite)
    def post(self, org_id: UUID) -> Any:
        """Sign a checkpoint of the organisation's audit chain head now
        ---
        The checkpoint signs the head as this request finds it; the request's own
        `org:audit-log:checkpoint` event comes after it, so the next checkpoint covers that.
        It is also delivered as an `audit.checkpoint` webhook.
        """
        return service.request_checkpoint(db_session(), current_ctx())


@keys_blp.route("/facito-audit-keys")
class AuditKeys(MethodView):
    @keys_blp.doc(operationId="getAuditKeys", security=[])
    @keys_blp.response(
        200, JsonWebKeySetSchema, headers={"Cache-Control": {"schema": {"type": "string"}}}
    )
    def get(self) -> Any:
        """The public keys (JWK Set) that verify audit checkpoints, old ones included
        ---
        A checkpoint's JWS header names its key (`kid`); keys stay here after a rotation, so
        every checkpoint Facito signed stays verifiable. No authentication.
        """
        return runtime().audit_keys.jwks(), 200, _KEYS_CACHE
