"""Keyset (cursor) pagination: `?limit=&cursor=`, `next_cursor` in the body, `Link: rel="next"`.

flask-smorest's page pagination counts rows and uses OFFSET, which grows with depth; keyset
pages cost the same at any depth. Cursors are opaque but not secret: they only say where to
resume inside data the caller may read anyway (tenant scoping applies to every page).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import marshmallow as ma
from sqlalchemy import ColumnElement, Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..errors import ValidationFailed
from .schemas import QueryInteger, QuerySchema

T = TypeVar("T")
# Mapped attributes for entity queries; table columns for hot lists that select columns.
KeyColumn = InstrumentedAttribute[Any] | ColumnElement[Any]
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageArgsSchema(QuerySchema):
    limit = QueryInteger(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page (1 to {MAX_LIMIT})"},
    )
    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=1000),
        metadata={"description": "`next_cursor` of the previous page"},
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [
        v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v
        for v in values
    ]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, columns: Sequence[KeyColumn]) -> list[Any]:
    """Values of a cursor, typed like the key columns; ValidationFailed when it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("wrong shape")
        typed: list[Any] = []
        for value, column in zip(values, columns, strict=True):
            typed.append(_typed(value, column.type.python_type))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, AttributeError):
        raise ValidationFailed(
            "the cursor is not valid for this list",
            errors={"cursor": ["not a cursor of this list"]},
            location="query",
        ) from None
    return typed


def _typed(value: Any, python_type: type) -> Any:
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is datetime:
        instant = datetime.fromisoformat(value)
        # Our cursors carry aware UTC instants; a naive or out-of-range one is not ours (and
        # would overflow when bound).
        if instant.tzinfo is None:
            raise ValueError("naive instant")
        try:
            return instant.astimezone(UTC)
        except OverflowError:
            raise ValueError("instant out of range") from None
    if isinstance(value, python_type) and not isinstance(value, bool):
        return value
    raise ValueError("wrong type")


def keyset_statement(
    query: Select[Any],
    keys: Sequence[KeyColumn],
    *,
    limit: int,
    cursor: str | None,
    descending: bool,
) -> Select[Any]:
    """``query`` after ``cursor`` in the order of ``keys``, one row more than ``limit``."""
    if cursor:
        after = decode_cursor(cursor, keys)
        # Bound with the key columns' own types, so that a timestamp is stored-format on SQLite
        # and a timestamptz on PostgreSQL, not a string compared as text.
        values = [literal(value, type_=key.type) for value, key in zip(after, keys, strict=True)]
        key_tuple, value_tuple = tuple_(*keys), tuple_(*values)
        query = query.where(key_tuple < value_tuple if descending else key_tuple > value_tuple)
    order = [k.desc() for k in keys] if descending else list(keys)
    return query.order_by(*order).limit(limit + 1)


def _page(rows: list[Any], keys: Sequence[KeyColumn], limit: int) -> Page[Any]:
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, str(k.key)) for k in keys])
    return Page(rows, next_cursor)


def paginate(
    session: Session,
    query: Select[T],
    *,
    keys: Sequence[KeyColumn],
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> Page[T]:
    """One page of ``query`` ordered by ``keys`` (unique together), after ``cursor``."""
    statement = keyset_statement(query, keys, limit=limit, cursor=cursor, descending=descending)
    return _page(list(session.execute(statement).scalars().all()), keys, limit)


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A `{items, next_cursor}` schema for a list of ``item_schema``."""
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(required=True, allow_none=True),
        },
    )
