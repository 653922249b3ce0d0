"""Schema conventions: unknown fields are rejected, timestamps are RFC 3339 UTC."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma


class StrictSchema(ma.Schema):
    """Input schema: an unknown field is a client mistake, answered with 422."""

    class Meta:
        unknown = ma.RAISE


class QuerySchema(ma.Schema):
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


class OutputSchema(ma.Schema):
    """Output schema: timestamps in UTC with a `Z`."""

    class Meta:
        datetimeformat = "%Y-%m-%dT%H:%M:%S.%fZ"
