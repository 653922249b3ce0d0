"""Request and response shapes of federations and the admin-consent flow."""

from __future__ import annotations

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import InputSchema, OutputSchema, StrictSchema
from ..tenants.models import FederationStatus


class FederationSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    tenant_id = ma.fields.String(required=True, metadata={"description": "Entra tenant id"})
    display_name = ma.fields.String(required=True, allow_none=True)
    status = ma.fields.Enum(
        FederationStatus,
        required=True,
        metadata={"description": "Tokens of the tenant are accepted only while `active`"},
    )
    consented_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class FederationCreateSchema(StrictSchema):
    tenant_id = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            error="must be a tenant id (GUID)",
        ),
        metadata={"description": "Entra tenant id (GUID); stored lowercase"},
    )
    display_name = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=200))


class FederationQueryArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(FederationStatus, load_default=None)


FederationPageSchema = page_schema(FederationSchema, "FederationPageSchema")


class AdminConsentSchema(OutputSchema):
    consent_url = ma.fields.String(
        required=True,
        metadata={"description": "Send the tenant's administrator to this URL to grant consent"},
    )
    state = ma.fields.String(
        required=True, metadata={"description": "Signed, single use; replaces earlier ones"}
    )
    expires_at = ma.fields.DateTime(required=True)


class AdminConsentCallbackArgsSchema(InputSchema):
    """What Entra appends to the redirect URI; parameters we do not use are ignored."""

    class Meta:
        # Entra, not our client, chooses these parameters (it may add more, e.g. `scope`).
        unknown = ma.EXCLUDE

    state = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))
    tenant = ma.fields.String(load_default=None, validate=ma.validate.Length(max=100))
    admin_consent = ma.fields.String(load_default=None, validate=ma.validate.Length(max=10))
    error = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    error_description = ma.fields.String(load_default=None, validate=ma.validate.Length(max=2000))
