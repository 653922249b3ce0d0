"""Request and response shapes of privacy statement versions, their change log and diff."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ...common.pagination import PageArgsSchema, page_schema
from ...common.schemas import (
    Day,
    Instant,
    OutputSchema,
    QuerySchema,
    StrictBoolean,
    StrictSchema,
    Text,
)
from ..models import StatementStatus
from ..parameters import PARAMETERS
from .diff import ParameterChangeKind

# BCP 47 language tags as statements use them: `nl`, `en`, `en-GB`, `zh-Hant`.
LANGUAGE_TAG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"
MAX_BODY_CHARS = 200_000

_PARAMETERS_DOC = (
    "Every policy parameter with its value: "
    + ", ".join(f"`{key}`" for key in sorted(PARAMETERS))
    + " (validated against the parameter registry; field errors name `parameters.<key>`)"
)


class ChangeEntryInputSchema(StrictSchema):
    summary = Text(required=True, validate=ma.validate.Length(max=500))
    reason = Text(required=True, validate=ma.validate.Length(max=1000))
    material = StrictBoolean(required=True)


def _parameters(**kwargs: Any) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": _PARAMETERS_DOC},
        **kwargs,
    )


def _bodies(**kwargs: Any) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Regexp(LANGUAGE_TAG)),
        values=ma.fields.String(validate=ma.validate.Length(min=1, max=MAX_BODY_CHARS)),
        metadata={"description": "The statement's text per language tag, e.g. `nl`, `en`"},
        **kwargs,
    )


def _changes(**kwargs: Any) -> ma.fields.List[Any]:
    return ma.fields.List(
        ma.fields.Nested(ChangeEntryInputSchema),
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "The change log of this version (at least one entry)"},
        **kwargs,
    )


def _label(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"),
        metadata={
            "description": "Unique label: letters, digits, `.`, `_`, `-` (e.g. `2026-01-15`)"
        },
        **kwargs,
    )


class StatementCreateSchema(StrictSchema):
    version_label = _label(required=True)
    last_updated = Day(required=True)
    effective_from = Instant(required=True)
    parameters = _parameters(required=True)
    changes = _changes(required=True)
    bodies = _bodies(load_default=dict)


class StatementUpdateSchema(StrictSchema):
    version_label = _label()
    last_updated = Day()
    effective_from = Instant()
    parameters = _parameters()
    changes = _changes()
    bodies = _bodies()


class ChangeEntrySchema(OutputSchema):
    position = ma.fields.Integer(required=True)
    summary = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    material = ma.fields.Boolean(required=True)


class StatementSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    version_label = ma.fields.String(required=True)
    last_updated = ma.fields.Date(required=True)
    status = ma.fields.Enum(StatementStatus, required=True)
    published_at = ma.fields.DateTime(required=True, allow_none=True)
    effective_from = ma.fields.DateTime(required=True)
    material = ma.fields.Boolean(required=True)
    parameters = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), required=True)
    changes = ma.fields.List(ma.fields.Nested(ChangeEntrySchema), required=True)
    bodies = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


StatementPageSchema = page_schema(StatementSchema, "StatementPageSchema")


class StatementQueryArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(
        StatementStatus,
        load_default=None,
        metadata={"description": "Drafts are listed only for Facito's DPO and operators"},
    )


class InForceQueryArgsSchema(QuerySchema):
    at = Instant(
        load_default=None,
        metadata={"description": "RFC 3339 instant with a timezone; now if absent"},
    )


class ChangeLogEntrySchema(OutputSchema):
    statement_id = ma.fields.UUID(required=True)
    version_label = ma.fields.String(required=True)
    last_updated = ma.fields.Date(required=True)
    published_at = ma.fields.DateTime(required=True, allow_none=True)
    effective_from = ma.fields.DateTime(required=True)
    position = ma.fields.Integer(required=True)
    summary = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    material = ma.fields.Boolean(required=True)


class ChangeLogSchema(OutputSchema):
    items = ma.fields.List(ma.fields.Nested(ChangeLogEntrySchema), required=True)


def _reference(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=40),
        metadata={"description": "A version's id or its version label"},
        **kwargs,
    )


class DiffQueryArgsSchema(QuerySchema):
    from_ = _reference(data_key="from")
    to = _reference()


class VersionRefSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    version_label = ma.fields.String(required=True)
    status = ma.fields.Enum(StatementStatus, required=True)
    effective_from = ma.fields.DateTime(required=True)


class ParameterChangeSchema(OutputSchema):
    key = ma.fields.String(required=True)
    change = ma.fields.Enum(ParameterChangeKind, required=True)
    old = ma.fields.Raw(required=True, allow_none=True)
    new = ma.fields.Raw(required=True, allow_none=True)


class BodyChangeSchema(OutputSchema):
    language = ma.fields.String(required=True)
    changed = ma.fields.Boolean(required=True)
    in_from = ma.fields.Boolean(required=True)
    in_to = ma.fields.Boolean(required=True)
    text_diff = ma.fields.String(
        required=True, metadata={"description": "Unified diff of the text; empty when unchanged"}
    )


class StatementDiffSchema(OutputSchema):
    from_ = ma.fields.Nested(
        VersionRefSchema, required=True, data_key="from", attribute="from_version"
    )
    to = ma.fields.Nested(VersionRefSchema, required=True, attribute="to_version")
    parameters = ma.fields.List(ma.fields.Nested(ParameterChangeSchema), required=True)
    changes = ma.fields.List(ma.fields.Nested(ChangeLogEntrySchema), required=True)
    bodies = ma.fields.List(ma.fields.Nested(BodyChangeSchema), required=True)


class ObjectionSchema(OutputSchema):
    notice_id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    organisation_slug = ma.fields.String(required=True)
    organisation_name = ma.fields.String(required=True)
    statement_id = ma.fields.UUID(required=True)
    added_subprocessors = ma.fields.List(ma.fields.String(), required=True)
    added_regions = ma.fields.List(ma.fields.String(), required=True)
    objection_until = ma.fields.DateTime(required=True, allow_none=True)
    objected_at = ma.fields.DateTime(required=True)
    objected_by = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)


ObjectionPageSchema = page_schema(ObjectionSchema, "ObjectionPageSchema")
