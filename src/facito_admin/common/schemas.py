"""Schema conventions: unknown fields are rejected, timestamps are RFC 3339 UTC."""

from __future__ import annotations

import marshmallow as ma


class StrictSchema(ma.Schema):
    """Input schema: an unknown field is a client mistake, answered with 422."""

    class Meta:
        unknown = ma.RAISE


class OutputSchema(ma.Schema):
    """Output schema: timestamps in UTC with a `Z`."""

    class Meta:
        datetimeformat = "%Y-%m-%dT%H:%M:%S.%fZ"
