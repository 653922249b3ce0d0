"""The items of an ingestion batch, checked one by one without a database (pure).

Every item is checked and every error of every item is kept, so that one answer lists them all
(the batch is all-or-nothing). The rules here are the ones user_data/schemas.py documents
(DataRecordInSchema): change both together. Hand-written rather than a marshmallow load per
item, because a batch of 1,000 items must cost about what the insert costs
(bench/ingest.py); the checks that need the database (accounts, products, the effective
policy) follow in service.ingest_records.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..common.schemas import EARLIEST, UNSTORABLE
from ..policies.categories import CATEGORIES, Purpose, PurposeNotAllowed, check_purpose
from ..policies.regions import REGIONS, SUBPROCESSORS
from .models import CONTENT_REF_LENGTH, EXTERNAL_KEY_LENGTH, SOURCE_SYSTEM_LENGTH

MAX_BATCH = 1000
# The content of one record, as compact JSON: larger data is held elsewhere (`content_ref`).
MAX_CONTENT_BYTES = 64 * 1024
# Clocks of source systems run a little ahead of ours: this much "future" is still now.
CLOCK_SKEW = timedelta(minutes=5)
ITEM_FIELDS = frozenset(
    {
        "account_id",
        "product",
        "category",
        "source_system",
        "external_key",
        "storage",
        "content",
        "content_ref",
        "sensitive",
        "occurred_at",
        "purposes",
    }
)
REQUIRED = ("account_id", "product", "category", "source_system", "external_key", "storage")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_PURPOSES = {p.value: p for p in Purpose}


@dataclass(frozen=True)
class ItemError:
    """One broken rule of one item: ``field`` is the dotted path in the body."""

    index: int
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """As problem details list it (the house `{field, location, message}` and more)."""
        return {
            "index": self.index,
            "field": self.field,
            "location": "json",
            "code": self.code,
            "message": self.message,
        }


@dataclass
class NewRecord:
    """An item that passed the checks of this module, as the table stores it."""

    index: int
    account_id: uuid.UUID
    product: str
    category: str
    source_system: str
    external_key: str
    subprocessor: str
    region: str
    content: Any
    content_ref: str | None
    sensitive: bool
    occurred_at: datetime
    purposes: list[str] = field(default_factory=list)


class _Item:
    """Collects the errors of one item while its fields are read."""

    def __init__(self, index: int, raw: Mapping[str, Any], errors: list[ItemError]) -> None:
        self.index, self.raw, self.errors = index, raw, errors
        self.failed = False

    def error(self, name: str, code: str, message: str) -> None:
        path = f"records.{self.index}.{name}" if name else f"records.{self.index}"
        self.errors.append(ItemError(self.index, path, code, message))
        self.failed = True

    def text(self, name: str, max_length: int) -> str:
        value = self.raw.get(name)
        if not isinstance(value, str):
            self.error(name, "invalid", "Not a string.")
            return ""
        value = value.strip()
        if not value:
            self.error(name, "blank", "Must not be blank.")
        elif len(value) > max_length:
            self.error(name, "too-long", f"Longer than {max_length} characters.")
        elif UNSTORABLE.search(value):
            self.error(name, "invalid", "Must not contain control characters.")
        return value


def check_items(
    items: Sequence[Mapping[str, Any]], *, now: datetime
) -> tuple[list[NewRecord], list[ItemError]]:
    """The items that pass, and every error of those that do not (one list for all items)."""
    records: list[NewRecord] = []
    errors: list[ItemError] = []
    keys: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(items):
        record = _check_item(_Item(index, raw, errors), now=now)
        if record is None:
            continue
        key = (record.source_system, record.external_key)
        if key in keys:
            errors.append(
                ItemError(
                    index,
                    f"records.{index}.external_key",
                    "duplicate-key",
                    f"Item {keys[key]} has the same source_system and external_key.",
                )
            )
            continue
        keys[key] = index
        records.append(record)
    return records, errors


def _check_item(item: _Item, *, now: datetime) -> NewRecord | None:
    raw = item.raw
    if not isinstance(raw, Mapping):
        item.error("", "invalid", "Not an object.")
        return None
    for name in sorted(set(raw) - ITEM_FIELDS):
        item.error(name, "unknown-field", "Unknown field.")
    for name in REQUIRED:
        if name not in raw:
            item.error(name, "required", "Missing data for required field.")
    if item.failed:
        return None
    account_id = _uuid(item, "account_id")
    product = item.text("product", 64)
    category = raw["category"]
    if not isinstance(category, str) or category not in CATEGORIES:
        item.error("category", "unknown-category", "Not a data category (GET /v1/data-categories).")
    source_system = item.text("source_system", SOURCE_SYSTEM_LENGTH)
    external_key = item.text("external_key", EXTERNAL_KEY_LENGTH)
    subprocessor, region = _storage(item)
    content, content_ref = _content(item)
    sensitive = raw.get("sensitive", False)
    if not isinstance(sensitive, bool):
        item.error("sensitive", "invalid", "Not a boolean.")
    occurred_at = _occurred_at(item, now)
    purposes = _purposes(item, category)
    if item.failed or account_id is None:
        return None
    return NewRecord(
        item.index,
        account_id,
        product,
        category,
        source_system,
        external_key,
        subprocessor,
        region,
        content,
        content_ref,
        sensitive,
        occurred_at,
        purposes,
    )


def _uuid(item: _Item, name: str) -> uuid.UUID | None:
    value = item.raw.get(name)
    parsed = None
    if isinstance(value, str):
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            parsed = None
    # The hyphenated form only (uuid.UUID also takes braces, urn: and bare hex).
    if parsed is None or str(parsed) != str(value).lower():
        item.error(name, "invalid", "Not a valid UUID.")
        return None
    return parsed


def _storage(item: _Item) -> tuple[str, str]:
    storage = item.raw["storage"]
    if not isinstance(storage, Mapping):
        item.error("storage", "invalid", "Not an object.")
        return "", ""
    for name in sorted(set(storage) - {"subprocessor", "region"}):
        item.error(f"storage.{name}", "unknown-field", "Unknown field.")
    subprocessor, region = storage.get("subprocessor"), storage.get("region")
    if not isinstance(subprocessor, str) or subprocessor not in SUBPROCESSORS:
        item.error("storage.subprocessor", "unknown-subprocessor", "Not a subprocessor.")
        return "", ""
    known = REGIONS.get(region) if isinstance(region, str) else None
    if known is None:
        item.error("storage.region", "unknown-region", "Not a region (GET /v1/regions).")
    elif known.subprocessor != subprocessor:
        item.error(
            "storage.region",
            "region-of-another-subprocessor",
            f"{region} is a region of {known.subprocessor}, not of {subprocessor}.",
        )
    return subprocessor, str(region)


def _content(item: _Item) -> tuple[Any, str | None]:
    content, content_ref = item.raw.get("content"), item.raw.get("content_ref")
    if content is not None and content_ref is not None:
        item.error("content_ref", "content-and-reference", "Send content or content_ref, not both.")
    if content is not None:
        try:
            text = json.dumps(content, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError):
            text = ""
            item.error("content", "invalid", "Not JSON.")
        # NUL, escaped in the JSON text (keys too): PostgreSQL stores no NUL in text.
        if "\\u0000" in text:
            item.error("content", "invalid", "Must not contain NUL characters.")
        if len(text.encode()) > MAX_CONTENT_BYTES:
            item.error(
                "content",
                "content-too-large",
                f"More than {MAX_CONTENT_BYTES} bytes of JSON: hold it elsewhere (content_ref).",
            )
    if content_ref is not None:
        if (
            not isinstance(content_ref, str)
            or not _URI.fullmatch(content_ref)
            or UNSTORABLE.search(content_ref)
        ):
            item.error("content_ref", "invalid", "Not a URI.")
        elif len(content_ref) > CONTENT_REF_LENGTH:
            item.error("content_ref", "too-long", f"Longer than {CONTENT_REF_LENGTH} characters.")
    return content, content_ref


def _occurred_at(item: _Item, now: datetime) -> datetime:
    value = item.raw.get("occurred_at")
    if value is None and "occurred_at" not in item.raw:
        return now
    instant = _instant(value)
    if instant is None:
        item.error("occurred_at", "invalid", "Not an RFC 3339 instant with a timezone.")
        return now
    if instant > now + CLOCK_SKEW:
        item.error("occurred_at", "in-future", "Must not be in the future.")
    elif instant < EARLIEST:
        item.error("occurred_at", "too-early", f"Must not be before {EARLIEST:%Y-%m-%d}.")
    return instant


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        instant = datetime.fromisoformat(value)
        return instant.astimezone(UTC) if instant.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def _purposes(item: _Item, category: Any) -> list[str]:
    value = item.raw.get("purposes", [])
    if not isinstance(value, list):
        item.error("purposes", "invalid", "Not a list.")
        return []
    purposes: list[str] = []
    for position, name in enumerate(value):
        purpose = _PURPOSES.get(name) if isinstance(name, str) else None
        if purpose is None:
            item.error(f"purposes.{position}", "invalid", "Not a purpose.")
            continue
        if purpose.value in purposes:
            item.error(f"purposes.{position}", "duplicate", "Named twice.")
            continue
        purposes.append(purpose.value)
        if isinstance(category, str) and category in CATEGORIES:
            try:
                check_purpose([category], purpose)
            except PurposeNotAllowed as refused:
                item.error(f"purposes.{position}", "purpose-not-allowed", refused.errors[category])
    return purposes
