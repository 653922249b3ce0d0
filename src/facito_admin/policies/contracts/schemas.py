"""Request and response shapes of contracts."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ...common.pagination import PageArgsSchema, page_schema
from ...common.schemas import Day, Instant, OutputSchema, StrictSchema, Text
from ..models import FacitoRole
from ..parameters import PARAMETERS, RETENTION_BY_CATEGORY_PREFIX

_OVERRIDES_DOC = {
    "description": 'Policy parameters this contract sets, e.g. `{"dsr.response_days": 14}`: '
    f"any of {', '.join(sorted(PARAMETERS))}, or `{RETENTION_BY_CATEGORY_PREFIX}<category>`; "
    "see the effective policy for their meaning. The contract's values win over the statement."
}
_ROLE_DOC = {"description": "Facito's role for the product's data: processor or controller"}


class ContractProductSchema(StrictSchema):
    code = Text(
        required=True,
        validate=ma.validate.Length(max=64),
        metadata={"description": "Product code from /v1/products"},
    )
    role = ma.fields.Enum(FacitoRole, by_value=True, required=True, metadata=_ROLE_DOC)


class ContractProductOutSchema(OutputSchema):
    code = ma.fields.String(required=True)
    role = ma.fields.String(required=True, metadata=_ROLE_DOC)


class ContractSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    reference = ma.fields.String(required=True)
    signed_on = ma.fields.Date(required=True)
    effective_from = ma.fields.DateTime(required=True)
    effective_to = ma.fields.DateTime(
        required=True, allow_none=True, metadata={"description": "Exclusive; null: open-ended"}
    )
    status = ma.fields.String(
        required=True,
        metadata={"description": "`scheduled`, `in_force` or `ended`, at this instant"},
    )
    products = ma.fields.List(
        ma.fields.Nested(ContractProductOutSchema), required=True, attribute="covered_products"
    )
    overrides = ma.fields.Dict(keys=ma.fields.String(), required=True, metadata=_OVERRIDES_DOC)
    terminated_at = ma.fields.DateTime(required=True, allow_none=True)
    termination_reason = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


ContractPageSchema = page_schema(ContractSchema, "ContractPageSchema")


def _fields(*, required: bool) -> dict[str, ma.fields.Field[Any]]:
    return {
        "reference": Text(
            required=required,
            validate=ma.validate.Length(min=1, max=100),
            metadata={"description": "The contract's reference, unique in the organisation"},
        ),
        "signed_on": Day(required=required),
        "effective_from": Instant(
            required=required, metadata={"description": "RFC 3339 instant it takes effect"}
        ),
        "effective_to": Instant(
            allow_none=True,
            metadata={"description": "RFC 3339 instant it ends (exclusive); null: open-ended"},
        ),
        "products": ma.fields.List(
            ma.fields.Nested(ContractProductSchema),
            required=required,
            validate=ma.validate.Length(min=1, max=100),
            metadata={"description": "Covered products, each with Facito's role"},
        ),
        "overrides": ma.fields.Dict(keys=ma.fields.String(), metadata=_OVERRIDES_DOC),
    }


class ContractCreateSchema(StrictSchema.from_dict(_fields(required=True))):  # type: ignore[misc]
    @ma.post_load
    def _defaults(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data.setdefault("effective_to", None)
        data.setdefault("overrides", {})
        return data


class ContractUpdateSchema(StrictSchema.from_dict(_fields(required=False))):  # type: ignore[misc]
    """Only the fields sent change; once in force only reference, signed_on and a future end."""


class ContractTerminateSchema(StrictSchema):
    effective_to = Instant(
        load_default=None,
        metadata={"description": "When it ends (not in the past); default: now"},
    )
    reason = Text(required=True, validate=ma.validate.Length(min=1, max=500))


class ContractQueryArgsSchema(PageArgsSchema):
    pass
