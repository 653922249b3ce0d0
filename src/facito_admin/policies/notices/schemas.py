"""Response and query shapes of an organisation's notices."""

from __future__ import annotations

import marshmallow as ma

from ...common.pagination import PageArgsSchema, page_schema
from ...common.schemas import OutputSchema, QueryBoolean
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


NoticePageSchema = page_schema(NoticeSchema, "NoticePageSchema")


class NoticeQueryArgsSchema(PageArgsSchema):
    acknowledged = QueryBoolean(
        load_default=None, metadata={"description": "Only acknowledged (true) or open (false)"}
    )
