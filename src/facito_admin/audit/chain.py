"""The hash chain: each event's hash covers its content and the previous event's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The fields a hash covers, in order. Changing this list breaks every stored chain: add a
# chain version instead (and teach verify_chain both).
HASHED_FIELDS = (
    "id",
    "organisation_id",
    "seq",
    "occurred_at",
    "actor_kind",
    "actor_tid",
    "actor_oid",
    "actor_display",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "request_id",
    "details",
)


def genesis_hash(organisation_id: str) -> str:
    """The `prev_hash` of an organisation's first event."""
    return hashlib.sha256(f"facito-audit-genesis:{organisation_id}".encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value) if not isinstance(value, (int, dict, list, str, bool, type(None))) else value


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of the hashed fields and the previous hash."""
    document = {name: _canonical(fields[name]) for name in HASHED_FIELDS}
    document["prev_hash"] = prev_hash
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    event_id: str
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken: BrokenLink | None
    last_hash: str


def verify_chain(organisation_id: str, events: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Recompute the chain in `seq` order and report the first link that does not hold."""
    expected_prev = genesis_hash(organisation_id)
    expected_seq = 1
    checked = 0
    for event in events:
        checked += 1
        event_id = str(event["id"])
        if event["seq"] != expected_seq:
            return ChainReport(
                checked, BrokenLink(expected_seq, event_id, "missing-event"), expected_prev
            )
        if event["prev_hash"] != expected_prev:
            return ChainReport(
                checked, BrokenLink(event["seq"], event_id, "prev-hash-mismatch"), expected_prev
            )
        if event_hash(event, event["prev_hash"]) != event["hash"]:
            return ChainReport(
                checked, BrokenLink(event["seq"], event_id, "content-altered"), expected_prev
            )
        expected_prev = event["hash"]
        expected_seq += 1
    return ChainReport(checked, None, expected_prev)
