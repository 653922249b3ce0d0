"""Schema conventions: unknown fields are rejected, timestamps are RFC 3339 UTC, and the
OpenAPI document states what every input field enforces (InputRulesPlugin)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar

import marshmallow as ma
from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow.exceptions import SCHEMA

from ..db.base import utcnow

# The API's name for the request body as a whole, in problems' `errors` (as app.py's
# _check_json_syntax names it); marshmallow's own `_schema` never reaches a client.
BODY = "_body"

# Every instant and day the API takes lies in these bounds, both included. The upper one leaves
# room to add periods (a statement's notice period, retention) without leaving the calendar or
# the databases; no statement, contract, token or audit event of ours is older than the lower
# one. Where routes had 1900-9998 and 1970-9000, this is where both agreed.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
_INSTANT_RANGE = f"{EARLIEST:%Y-%m-%dT%H:%M:%SZ} to {LATEST:%Y-%m-%dT%H:%M:%SZ}"
_DAY_RANGE = f"{EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}"
# Birth dates have their own rule: people, not documents (accounts).
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# NUL is refused by PostgreSQL text, lone surrogates cannot be encoded: both would fail in the
# database, so they are a client mistake (422). Other control characters have no place in names
# and identifiers either.
UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _nul_paths(data: Any, path: str = "") -> list[str]:
    if isinstance(data, str):
        return [path or BODY] if "\x00" in data else []
    if isinstance(data, Mapping):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return []
    found: list[str] = []
    for key, value in items:
        if isinstance(key, str) and "\x00" in key:
            found.append(f"{path}.{key!r}" if path else repr(key))
        found += _nul_paths(value, f"{path}.{key}" if path else str(key))
    return found


class InputSchema(ma.Schema):
    """Base of every input schema: text never carries NUL characters.

    PostgreSQL cannot store NUL in text and would fail the request deep in a query; no field of
    ours has a use for it, so it is refused up front with 422 on the field that carries it.
    """

    @ma.pre_load
    def _reject_nul_characters(self, data: Any, **_: Any) -> Any:
        paths = _nul_paths(data)
        if paths:
            raise ma.ValidationError({path: ["Must not contain NUL characters."] for path in paths})
        return data

    def handle_error(
        self, error: ma.ValidationError, data: Any, *, many: bool, **kwargs: Any
    ) -> None:
        """Errors name the API's fields: the body is `_body`, never marshmallow's `_schema`."""
        if isinstance(error.messages, dict):
            renamed = _api_names(error.messages, nested=False)
            error.messages.clear()
            error.messages.update(renamed if isinstance(renamed, dict) else {BODY: renamed})


def _api_names(messages: dict[Any, Any], *, nested: bool) -> dict[Any, Any] | list[Any]:
    """``messages`` with marshmallow's `_schema` renamed: `_body` for the request body, and
    the enclosing field's own path for a nested object (`changes.0`, not `changes.0._schema`).

    Nested schemas rename their own messages first, so `_body` below the top is theirs too.
    """
    own: list[Any] = []
    fields: dict[Any, Any] = {}
    for key, value in messages.items():
        if key in (SCHEMA, BODY):
            own += value if isinstance(value, list) else [value]
        else:
            fields[key] = _api_names(value, nested=True) if isinstance(value, dict) else value
    if not own:
        return fields
    if nested and not fields:
        return own
    return {BODY: own, **fields}


class StrictSchema(InputSchema):
    """Input schema: an unknown field is a client mistake, answered with 422."""

    class Meta:
        unknown = ma.RAISE


class QuerySchema(InputSchema):
    """Query-string arguments: an unknown name is answered with 422, like an unknown body field.

    webargs loads query strings with ``unknown=EXCLUDE`` whatever the schema says, so a misspelt
    filter (``?stauts=active``) would silently return the unfiltered list. Subclass this (lists
    do, through PageArgsSchema) for every ``location="query"`` schema.
    """

    @ma.pre_load
    def _reject_unknown_names(self, data: Any, **_: Any) -> Any:
        if isinstance(data, Mapping):
            known = {field.data_key or name for name, field in self.load_fields.items()}
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise ma.ValidationError({key: ["Unknown field."] for key in unknown})
        return data


class PatchSchema(StrictSchema):
    """Input of a PATCH: only the fields sent change; an empty body is a 422 on `_body`.

    Documented as `minProperties: 1` (InputRulesPlugin).
    """

    @ma.validates_schema
    def _something_to_change(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            names = ", ".join(
                f"`{field.data_key or name}`" for name, field in self.load_fields.items()
            )
            raise ma.ValidationError(f"send at least one of {names}", BODY)


class OutputSchema(ma.Schema):
    """Output schema: timestamps in UTC with a `Z`."""

    class Meta:
        datetimeformat = "%Y-%m-%dT%H:%M:%S.%fZ"


class StrictBoolean(ma.fields.Boolean):
    """A boolean of a JSON body: only JSON true and false (not 0, 1, "yes" or "true")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictInteger(ma.fields.Integer):
    """An integer of a JSON body: only JSON integers (not true, 45.0 or "45")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return value


class QueryBoolean(ma.fields.Boolean):
    """A boolean of the query string: the text `true` or `false`, nothing else."""

    rule = "Only `true` or `false`."
    _TEXTS: ClassVar[dict[str, bool]] = {"true": True, "false": False}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, str) or value not in self._TEXTS:
            raise self.make_error("invalid", input=value)
        return self._TEXTS[value]


class QueryInteger(ma.fields.Integer):
    """An integer of the query string: ASCII decimal digits only (not `+5`, `5.0` or `1e3`)."""

    rule = "In decimal digits."
    _DIGITS = re.compile("[0-9]+")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or not self._DIGITS.fullmatch(value):
            raise self.make_error("invalid", input=value)
        try:
            return int(value)
        except ValueError:  # more digits than Python converts
            raise self.make_error("invalid", input=value) from None


class Text(ma.fields.String):
    """A string trimmed of surrounding blanks; blank or with control characters is refused.

    Documented as `minLength: 1`. A Length validator's maximum holds for the text as sent
    (what the document's `maxLength` promises a client) and so for the trimmed text as well.
    """

    rule = "Trimmed; not blank, no control characters."

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        sent = super()._deserialize(value, attr, data, **kwargs)
        for validator in self.validators:
            limit = validator.max if isinstance(validator, ma.validate.Length) else None
            if limit is not None and len(sent) > limit:
                raise ma.ValidationError(f"Longer than maximum length {limit}.")
        text = sent.strip()
        if not text:
            raise ma.ValidationError("must not be blank")
        if UNSTORABLE.search(text):
            raise ma.ValidationError("must not contain control characters")
        return text


class Instant(ma.fields.AwareDateTime):
    """An RFC 3339 instant with a timezone, loaded as UTC, from EARLIEST to LATEST."""

    rule = f"From {_INSTANT_RANGE}."
    _error = f"must lie between {_INSTANT_RANGE}"

    def __init__(self, *, validate: Any = None, **kwargs: Any) -> None:
        # The Range also documents the bounds (apispec: x-minimum, x-maximum).
        bounds = ma.validate.Range(min=EARLIEST, max=LATEST, error=self._error)
        super().__init__(format="iso", validate=[bounds, *_validators(validate)], **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        instant = super()._deserialize(value, attr, data, **kwargs)
        try:
            return instant.astimezone(UTC)
        except OverflowError:  # the first or last hours of the calendar, offset beyond it
            raise ma.ValidationError(self._error) from None


class Day(ma.fields.Date):
    """A calendar day (`2026-01-15`) from EARLIEST to LATEST, like Instant."""

    rule = f"From {_DAY_RANGE}."

    def __init__(self, *, validate: Any = None, **kwargs: Any) -> None:
        bounds = ma.validate.Range(
            min=EARLIEST.date(), max=LATEST.date(), error=f"must lie between {_DAY_RANGE}"
        )
        super().__init__(validate=[bounds, *_validators(validate)], **kwargs)


def _not_in_future(value: date) -> None:
    if value > utcnow().date():
        raise ma.ValidationError("must not be in the future")


class BirthDate(ma.fields.Date):
    """A date of birth: from EARLIEST_BIRTH_DATE, not in the future (UTC)."""

    rule = f"From {EARLIEST_BIRTH_DATE:%Y-%m-%d}; not in the future."

    def __init__(self, **kwargs: Any) -> None:
        oldest = ma.validate.Range(
            min=EARLIEST_BIRTH_DATE, error=f"must be {EARLIEST_BIRTH_DATE:%Y-%m-%d} or later"
        )
        super().__init__(validate=[oldest, _not_in_future], **kwargs)


def _validators(validate: Any) -> list[Any]:
    if validate is None:
        return []
    return [validate] if callable(validate) else list(validate)


def _document_rules(
    converter: Any, field: ma.fields.Field[Any], ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    """What a field enforces beyond what apispec reads from its validators."""
    found: dict[str, Any] = {}
    if isinstance(field, Text):
        found["minLength"] = max(ret.get("minLength", 0), 1)
    key_field = getattr(field, "key_field", None)
    if isinstance(field, ma.fields.Dict) and key_field is not None and key_field.validators:
        found["propertyNames"] = converter.field2property(key_field)
    rule = getattr(field, "rule", None)
    if rule:
        described = ret.get("description")
        found["description"] = f"{described.rstrip('.')}. {rule}" if described else rule
    return found


class InputRulesPlugin(BasePlugin):
    """Documents the rules of these field classes and that a PATCH body must not be empty."""

    def init_spec(self, spec: APISpec) -> None:
        # The marshmallow plugin comes before the extra plugins, so its converter exists
        # (apispec leaves add_attribute_function unannotated).
        converter = next(
            p.converter
            for p in spec.plugins
            if isinstance(p, MarshmallowPlugin) and p.converter is not None
        )
        converter.add_attribute_function(_document_rules)  # type: ignore[no-untyped-call]

    def schema_helper(
        self, name: str, definition: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any] | None:
        schema = kwargs.get("schema")
        if schema is None or isinstance(schema, str):
            return None
        schema_class = resolve_schema_cls(schema)
        if isinstance(schema_class, type) and issubclass(schema_class, PatchSchema):
            return {"minProperties": 1}
        return None
