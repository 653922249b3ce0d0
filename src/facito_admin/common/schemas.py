"""Schema conventions: unknown fields are rejected, timestamps are RFC 3339 UTC."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

# NUL is refused by PostgreSQL text, lone surrogates cannot be encoded: both would fail in the
# database, so they are a client mistake (422). Other control characters have no place in names
# and identifiers either.
UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class StrictSchema(ma.Schema):
    """Input schema: an unknown field is a client mistake, answered with 422."""

    class Meta:
        unknown = ma.RAISE


class OutputSchema(ma.Schema):
    """Output schema: timestamps in UTC with a `Z`."""

    class Meta:
        datetimeformat = "%Y-%m-%dT%H:%M:%S.%fZ"


class Text(ma.fields.String):
    """A string trimmed of surrounding blanks; blank or with control characters is refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ma.ValidationError("must not be blank")
        if UNSTORABLE.search(text):
            raise ma.ValidationError("must not contain control characters")
        return text
