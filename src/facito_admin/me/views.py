"""Who am I: the caller as the API sees it, and for a person their own account and products."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from ..accounts.fields import FIELDS, Access, Kind
from ..common.schemas import OutputSchema
from ..http import Blueprint, authenticate, db_session, require
from . import service

blp = Blueprint("me", __name__, url_prefix="/v1/me", description="The calling principal")


# The profile attributes an administrator or integration sets with no rule of their own (job
# title, department, …): taken from the field table, so a new one shows here by itself.
_PROFILE = {
    field.name: ma.fields.String(required=True, allow_none=True)
    for field in FIELDS.values()
    if field.kind is Kind.text
    and field.access is Access.editable
    and not (field.check or field.unique or field.key)
}


class OwnAccountSchema(OutputSchema):
    class Meta(OutputSchema.Meta):
        include = _PROFILE

    id = ma.fields.UUID(required=True)
    user_principal_name = ma.fields.String(required=True)
    email = ma.fields.String(required=True, allow_none=True)
    display_name = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "`active` or `disabled`"})
    is_minor = ma.fields.Boolean(required=True, attribute="minor_now")
    created_at = ma.fields.DateTime(required=True)


class OwnProductSchema(OutputSchema):
    product_code = ma.fields.String(required=True)
    granted_at = ma.fields.DateTime(required=True)


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
    account = ma.fields.Nested(
        OwnAccountSchema,
        required=True,
        allow_none=True,
        metadata={
            "description": "A person's own account in their organisation (the one with their "
            "token's object id); null for apps, staff and people without an account"
        },
    )
    products = ma.fields.List(
        ma.fields.Nested(OwnProductSchema),
        required=True,
        metadata={"description": "The products the account may use now; empty without one"},
    )


@blp.route("")
class Me(MethodView):
    @blp.doc(operationId="getMe")
    @blp.response(200, MeSchema)
    @require()
    def get(self) -> Any:
        """The calling principal: organisation, roles, permissions, and a person's own account"""
        principal = authenticate()
        # Only a person's token carries self:profile:read (auth/context.py: SELF_PERMISSIONS).
        profile = (
            service.own_profile(db_session(), principal)
            if service.may_have_profile(principal)
            else None
        )
        return {
            "kind": principal.kind.value,
            "tenant_id": principal.tenant_id,
            "object_id": principal.object_id,
            "display_name": principal.display_name,
            "organisation_id": principal.organisation_id,
            "roles": sorted(r.value for r in principal.roles),
            "permissions": sorted(p.value for p in principal.permissions),
            "account": profile.account if profile else None,
            "products": profile.products if profile else [],
        }
