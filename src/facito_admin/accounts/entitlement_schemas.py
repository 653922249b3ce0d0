"""Request and response shapes of entitlements (the products an account may use)."""

from __future__ import annotations

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import OutputSchema, QueryBoolean, StrictSchema, Text
from ..products.models import PRODUCT_CODE, EndReason


class EntitlementSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    account_id = ma.fields.UUID(required=True)
    product_code = ma.fields.String(required=True)
    active = ma.fields.Method("_active", required=True, metadata={"type": "boolean"})
    granted_at = ma.fields.DateTime(required=True)
    ended_at = ma.fields.DateTime(required=True, allow_none=True)
    end_reason = ma.fields.Enum(
        EndReason,
        required=True,
        allow_none=True,
        metadata={"description": "Why the period ended; null while it is active"},
    )

    def _active(self, entitlement: object) -> bool:
        return getattr(entitlement, "ended_at", None) is None


EntitlementPageSchema = page_schema(EntitlementSchema, "EntitlementPageSchema")


class EntitlementGrantSchema(StrictSchema):
    product_code = Text(
        required=True,
        validate=ma.validate.Regexp(PRODUCT_CODE, error="must be a product code"),
        metadata={"description": "Code of a product of /v1/products"},
    )


class EntitlementQueryArgsSchema(PageArgsSchema):
    active = QueryBoolean(
        load_default=None,
        metadata={"description": "`true` open periods only, `false` ended ones only"},
    )
