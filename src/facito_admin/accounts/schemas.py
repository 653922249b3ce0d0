"""Request and response shapes of accounts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import UNSTORABLE, BirthDate, OutputSchema, StrictBoolean, StrictSchema, Text
from .fields import FIELDS, Access, Check, Field, Kind, max_length
from .models import AccountSource, AccountStatus

_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UPN = ma.validate.Regexp(r"^[^@\s]+@[^@\s]+$", error="must look like user@domain")
# The schema field of each kind of value an account shows (fields.py).
_SHOWN_AS: dict[Kind, type[ma.fields.Field[Any]]] = {
    Kind.text: ma.fields.String,
    Kind.uuid: ma.fields.UUID,
    Kind.instant: ma.fields.DateTime,
    Kind.date: ma.fields.Date,
    Kind.bool: ma.fields.Boolean,
}


def _shown(field: Field) -> ma.fields.Field[Any]:
    """The field as AccountSchema shows it: always present, null where it may be."""
    kwargs: dict[str, Any] = {"required": True}
    if field.nullable:
        kwargs["allow_none"] = True
    if field.computed_as:
        kwargs["attribute"] = field.computed_as
    if field.output_description:
        kwargs["metadata"] = {"description": field.output_description}
    if field.enum is not None:
        return ma.fields.Enum(field.enum, **kwargs)
    return _SHOWN_AS[field.kind](**kwargs)


def _written(field: Field, *, create: bool) -> ma.fields.Field[Any]:
    """The field as a request writes it: checked as the table says, required where it says."""
    metadata = {"description": field.description} if field.description else {}
    common: dict[str, Any] = {"metadata": metadata}
    if field.nullable:
        common["allow_none"] = True
    if create and field.required:
        common["required"] = True
    if field.access is Access.create:
        choices = [choice.value for choice in field.choices]
        return ma.fields.String(
            load_default=choices[0], validate=ma.validate.OneOf(choices), **common
        )
    if field.kind is Kind.text and field.max_length is not None:
        if field.check is Check.email:
            return ma.fields.Email(validate=ma.validate.Length(max=field.max_length), **common)
        if field.check is Check.guid:
            return Text(
                validate=ma.validate.Regexp(_GUID, error="must be an object id (GUID)"), **common
            )
        length = ma.validate.Length(min=1, max=field.max_length)
        return Text(validate=[length, _UPN] if field.check is Check.upn else [length], **common)
    if field.kind is Kind.date and field.check is Check.past:
        return BirthDate(**common)
    # Booleans in a body are JSON true/false only (common/schemas.py: StrictBoolean).
    plain: type[ma.fields.Field[Any]] | None = {
        Kind.bool: StrictBoolean,
        Kind.uuid: ma.fields.UUID,
    }.get(field.kind)
    if plain is not None and field.check is None:
        return plain(**common)
    raise ValueError(f"{field.name}: no request form for this kind of field")


def _written_fields(fields: Iterable[Field], *, create: bool) -> dict[str, ma.fields.Field[Any]]:
    return {field.name: _written(field, create=create) for field in fields}


class AccountSchema(OutputSchema):
    class Meta(OutputSchema.Meta):
        include = {field.name: _shown(field) for field in FIELDS.values() if field.shown}


AccountPageSchema = page_schema(AccountSchema, "AccountPageSchema")

# The requests list the optional fields first, then those a create requires, then the
# create-only ones (the order of the OpenAPI document).
_EDITABLE = [field for field in FIELDS.values() if field.access is Access.editable]
_EMAILS = [field.name for field in _EDITABLE if field.check is Check.email]


class _AccountFieldsSchema(StrictSchema):
    class Meta(StrictSchema.Meta):
        include = _written_fields((f for f in _EDITABLE if not f.required), create=False)

    @ma.validates(*_EMAILS)
    def _email_text(self, value: str | None, **_kwargs: Any) -> None:
        if value is not None and UNSTORABLE.search(value):
            raise ma.ValidationError("must not contain control characters")


class AccountCreateSchema(_AccountFieldsSchema):
    class Meta(StrictSchema.Meta):
        include = _written_fields(
            [
                *(field for field in _EDITABLE if field.required),
                *(field for field in FIELDS.values() if field.access is Access.create),
            ],
            create=True,
        )


class AccountUpdateSchema(_AccountFieldsSchema):
    """Only the fields sent change; `null` clears an optional field."""

    class Meta(StrictSchema.Meta):
        include = _written_fields((f for f in _EDITABLE if f.required), create=False)


class AccountQueryArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(
        AccountStatus,
        load_default=None,
        metadata={"description": "Without it, deleted accounts are left out"},
    )
    source = ma.fields.Enum(AccountSource, load_default=None)
    department = Text(
        load_default=None,
        validate=ma.validate.Length(max=max_length("department")),
        metadata={"description": "Exact department name"},
    )
    q = Text(
        load_default=None,
        validate=ma.validate.Length(max=100),
        metadata={"description": "Case-insensitive substring of display name, e-mail or UPN"},
    )
    sort = ma.fields.String(
        load_default="created",
        validate=ma.validate.OneOf(["created", "name"]),
        metadata={"description": "`created` (default) or `name` (display name)"},
    )
    order = ma.fields.String(
        load_default="asc",
        validate=ma.validate.OneOf(["asc", "desc"]),
        metadata={"description": "`asc` (default) or `desc`"},
    )
