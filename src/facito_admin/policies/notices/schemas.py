"""Response and query shapes of an organisation's notices."""

from __future__ import annotations

import marshmallow as ma

from ...common.pagination import PageArgsSchema, page_schema
from ...common.schemas import OutputSchema, QueryBoolean, StrictSchema, Text
from ..models import NoticeKind


class NoticeSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    kind = ma.fields.Enum(NoticeKind, required=True)
    statement_id = ma.fields.UUID(
        required=True,
        allow_none=True,
        metadata={"description": "The privacy statement version the notice is about"},
    )
    material = ma.fields.Boolean(required=True)
    effective_from = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    acknowledged_at = ma.fields.DateTime(required=True, allow_none=True)
    acknowledged_by = ma.fields.String(required=True, allow_none=True)
    added_subprocessors = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Subprocessors the version adds to those of the one before it"},
    )
    added_regions = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Regions the version adds to those of the one before it"},
    )
    objection_until = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={
            "description": "End of the window to object to the additions (GDPR art. 28(2)): "
            "when the version takes effect; null when it adds no subprocessor or region"
        },
    )
    objected_at = ma.fields.DateTime(required=True, allow_none=True)
    objected_by = ma.fields.String(required=True, allow_none=True)
    objection_reason = ma.fields.String(required=True, allow_none=True)


NoticePageSchema = page_schema(NoticeSchema, "NoticePageSchema")


class NoticeQueryArgsSchema(PageArgsSchema):
    acknowledged = QueryBoolean(
        load_default=None, metadata={"description": "Only acknowledged (true) or open (false)"}
    )


class ObjectionCreateSchema(StrictSchema):
    reason = Text(
        required=True,
        validate=ma.validate.Length(max=2000),
        metadata={
            "description": "Why the organisation objects to the added subprocessors or regions"
        },
    )
