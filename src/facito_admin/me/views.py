"""Who am I: the caller as the API sees it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from ..common.schemas import OutputSchema
from ..http import authenticate, require

blp = Blueprint("me", __name__, url_prefix="/v1/me", description="The calling principal")


class MeSchema(OutputSchema):
    kind = ma.fields.String(
        required=True,
        metadata={"description": "organisation_user, organisation_app, employee or facito_staff"},
    )
    tenant_id = ma.fields.String(required=True)
    object_id = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    organisation_id = ma.fields.UUID(required=True, allow_none=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    permissions = ma.fields.List(ma.fields.String(), required=True)


@blp.route("")
class Me(MethodView):
    @blp.doc(operationId="getMe")
    @blp.response(200, MeSchema)
    @require()
    def get(self) -> Any:
        """The calling principal: organisation, roles and the permissions they grant"""
        principal = authenticate()
        return {
            "kind": principal.kind.value,
            "tenant_id": principal.tenant_id,
            "object_id": principal.object_id,
            "display_name": principal.display_name,
            "organisation_id": principal.organisation_id,
            "roles": sorted(r.value for r in principal.roles),
            "permissions": sorted(p.value for p in principal.permissions),
        }
