"""Response and query shapes of the effective policy."""

from __future__ import annotations

import marshmallow as ma

from ...common.schemas import Instant, OutputSchema, QuerySchema
from ..resolution import Source


class EffectivePolicyArgsSchema(QuerySchema):
    at = Instant(
        load_default=None,
        metadata={"description": "RFC 3339 instant to resolve the policy at; default: now"},
    )


class EffectiveValueSchema(OutputSchema):
    value = ma.fields.Raw(
        required=True, metadata={"description": "A number, true/false or a list of codes"}
    )
    source = ma.fields.Enum(Source, by_value=True, required=True)
    statement_version = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Version label of the statement that sets it (source statement)"},
    )
    contract_reference = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Reference of the contract that sets it (source contract)"},
    )
    id = ma.fields.UUID(
        required=True,
        allow_none=True,
        attribute="document_id",
        metadata={"description": "Id of the statement version or contract"},
    )
    since = ma.fields.DateTime(
        required=True, metadata={"description": "When that document took effect"}
    )


class StatementInForceSchema(OutputSchema):
    id = ma.fields.UUID(required=True, allow_none=True, attribute="version_id")
    version_label = ma.fields.String(required=True)
    effective_from = ma.fields.DateTime(required=True)


class ContractInForceSchema(OutputSchema):
    id = ma.fields.UUID(required=True, attribute="contract_id")
    reference = ma.fields.String(required=True)
    effective_from = ma.fields.DateTime(required=True)
    effective_to = ma.fields.DateTime(required=True, allow_none=True)


class EffectivePolicySchema(OutputSchema):
    at = ma.fields.DateTime(required=True)
    statement = ma.fields.Nested(StatementInForceSchema, required=True, allow_none=True)
    contract = ma.fields.Nested(ContractInForceSchema, required=True, allow_none=True)
    values = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(EffectiveValueSchema),
        required=True,
        metadata={"description": "Every policy parameter in force, by key, with its provenance"},
    )
