"""Declarative base, naming convention, id and time types shared by every model."""

from __future__ import annotations

import os
import threading
import time
import uuid
from array import array
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_id_lock = threading.Lock()
_id_clock = [0, 0]  # the last id's millisecond and counter
# Random 64-bit words from os.urandom, taken 1,024 at a time: one getrandom call per id
# released and re-took the GIL each time, and behind a busy thread (a sync's page prefetch)
# that wait cost more than the id (py-spy of a 100,000-user sync: 0.7 s in getrandbits).
_random_words = array("Q")


def _random_word() -> int:
    # Under _id_lock. Still the system's CSPRNG, only read in larger pieces.
    if not _random_words:
        _random_words.frombytes(os.urandom(8 * 1024))
    return _random_words.pop()


# A forked child (a gunicorn worker) must not reuse its parent's pool: the same words in two
# processes in the same millisecond would be the same ids.
def _forget_random_words() -> None:
    del _random_words[:]


os.register_at_fork(after_in_child=_forget_random_words)


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so ids sort by creation and index pages stay dense.

    Ids of one millisecond count up in the 12 bits after the version (RFC 9562 6.2, method 1),
    from a random start, and take the next millisecond when those run out: a process's ids
    sort in the order it made them. Written here rather than taken from uuid6 (Python 3.14
    has uuid.uuid7): uuid6.uuid7 advances its clock a millisecond per id in a burst (a 100,000-
    user sync ran its ids minutes ahead) and, with the conversion to uuid.UUID, cost 5.5 us an
    id against 1.5, a second of every 100,000-user directory sync (issue 13).
    """
    now = time.time_ns() // 1_000_000
    with _id_lock:
        last, counter = _id_clock
        if now > last:
            last, counter = now, _random_word() >> 53  # 11 bits: half the range left to count in
        elif counter < 0xFFF:
            counter += 1
        else:
            last, counter = last + 1, 0
        _id_clock[:] = (last, counter)
        random_bits = _random_word() >> 2
    return uuid.UUID(int=last << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | random_bits)


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores naive values, we restore the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        # TypeDecorator answers `object`; keyset cursors type their values by it (pagination).
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def string_enum(cls: type[StrEnum], name: str) -> Enum:
    """A StrEnum column stored as a plain string of its values (adding one needs no DDL)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {uuid.UUID: Uuid(), datetime: UTCDateTime()}


class Timestamped:
    """Creation and last-change instants, set by the application (not the database clock)."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Versioned:
    """An integer bumped on every UPDATE; the ETag derives from it and stale writes fail."""

    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - declared_attr receives the class
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
