"""Export formats of the audit log: JSON lines (verifiable) and CSV (for spreadsheets)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

from .chain import HASHED_FIELDS, canonical_fields
from .models import AuditEvent

COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")
CHUNK_BYTES = 64 * 1024
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection");
# tab and carriage return are on OWASP's list too.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


CONTENT_TYPES = {
    ExportFormat.jsonl: "application/x-ndjson",
    ExportFormat.csv: "text/csv; charset=utf-8",
}


def event_record(event: AuditEvent) -> dict[str, Any]:
    """One event with canonical values: `verify_chain` accepts a sequence of these as they are."""
    values = {name: getattr(event, name) for name in HASHED_FIELDS}
    return {**canonical_fields(values), "prev_hash": event.prev_hash, "hash": event.hash}


def csv_safe(value: str) -> str:
    """The cell as text a spreadsheet shows and never evaluates."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _jsonl(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield json.dumps(event_record(event), ensure_ascii=False, separators=(",", ":")) + "\n"


def _csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _csv(events: Iterable[AuditEvent]) -> Iterator[str]:
    yield _csv_line(COLUMNS)
    for event in events:
        record = event_record(event)
        record["details"] = json.dumps(
            record["details"], ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )
        yield _csv_line(
            csv_safe(value) if isinstance(value, str) else value
            for value in (record[column] for column in COLUMNS)
        )


def _chunked(lines: Iterable[str]) -> Iterator[bytes]:
    # One write per ~64 KiB instead of one per event; memory stays bounded by the chunk.
    parts: list[bytes] = []
    size = 0
    for line in lines:
        encoded = line.encode("utf-8", "surrogatepass")
        parts.append(encoded)
        size += len(encoded)
        if size >= CHUNK_BYTES:
            yield b"".join(parts)
            parts, size = [], 0
    if parts:
        yield b"".join(parts)


def render(fmt: str, events: Iterable[AuditEvent]) -> Iterator[bytes]:
    """The export body in ``fmt``, produced lazily from ``events``."""
    lines = _jsonl(events) if ExportFormat(fmt) is ExportFormat.jsonl else _csv(events)
    return _chunked(lines)
