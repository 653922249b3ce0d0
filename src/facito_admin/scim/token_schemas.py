"""Request and response shapes of SCIM tokens (REST, /v1)."""

from __future__ import annotations

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import Instant, OutputSchema, StrictSchema, Text


class ScimTokenSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    description = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    created_by = ma.fields.String(required=True)
    last_used_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "Last use on /scim/v2, to the minute"},
    )
    expires_at = ma.fields.DateTime(required=True, allow_none=True)
    revoked_at = ma.fields.DateTime(required=True, allow_none=True)


class ScimTokenCreatedSchema(ScimTokenSchema):
    token = ma.fields.String(
        required=True,
        metadata={
            "description": "The bearer token for /scim/v2 (Entra ID: the Secret Token). Shown "
            "only in this answer: store it now, it cannot be read again."
        },
    )


class ScimTokenCreateSchema(StrictSchema):
    description = Text(
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "What the token is for, e.g. `Entra ID provisioning`"},
    )
    expires_at = Instant(
        load_default=None,
        allow_none=True,
        metadata={"description": "Refused from this instant on; never when absent"},
    )


class ScimTokenQueryArgsSchema(PageArgsSchema):
    pass


ScimTokenPageSchema = page_schema(ScimTokenSchema, "ScimTokenPageSchema")
