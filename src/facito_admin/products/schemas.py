"""Request and response shapes of the product catalogue."""

from __future__ import annotations

import marshmallow as ma

from ..common.schemas import OutputSchema, QueryBoolean, QuerySchema
from .models import ProductKind


class ProductSchema(OutputSchema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.Enum(ProductKind, required=True)
    description = ma.fields.String(required=True)
    preview = ma.fields.Boolean(
        required=True, metadata={"description": "Previews may collect more data"}
    )


class ProductQueryArgsSchema(QuerySchema):
    kind = ma.fields.Enum(ProductKind, load_default=None)
    preview = QueryBoolean(load_default=None)
