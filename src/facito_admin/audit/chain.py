"""The hash chain: each event's hash covers its content and the previous event's hash.

Pure functions, no session: the service feeds them rows, the tests feed them dictionaries, and
an auditor can feed them the lines of a JSONL export (whose values are the canonical ones).
A chain proves that stored events were not edited, removed or reordered after the fact by
someone who did not also rewrite every later hash and the chain head; anchoring the head
outside the database would close that gap too.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Any

import orjson

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
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# NUL is refused by PostgreSQL text columns, lone surrogates cannot be encoded as UTF-8: either
# would make an event unstorable or unhashable, so both become U+FFFD before hashing.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BreakReason(StrEnum):
    """Why a chain does not hold, in the order the checks run."""

    # A position 1..head has no event (deleted), or events after the last one are gone.
    missing_event = "missing-event"
    # The event does not link to the one before it (that one, or this link, was rewritten).
    prev_hash_mismatch = "prev-hash-mismatch"
    # The event's stored content no longer gives its stored hash.
    content_altered = "content-altered"
    # The last event is not the one the chain head points to.
    head_mismatch = "head-mismatch"
    # The prune checkpoint disagrees with the chain's own record of the last pruning.
    checkpoint_mismatch = "checkpoint-mismatch"


def genesis_hash(organisation_id: str) -> str:
    """The `prev_hash` of an organisation's first event."""
    return hashlib.sha256(f"facito-audit-genesis:{organisation_id}".encode()).hexdigest()


def clean_text(value: str) -> str:
    """The text as it can be stored on every backend (NUL and lone surrogates replaced)."""
    return _UNSTORABLE.sub("\ufffd", value)


def canonical_timestamp(value: datetime) -> str:
    """RFC 3339 UTC with microseconds: the one spelling of an instant in hashes and exports."""
    if value.tzinfo is UTC and value.year >= 1000:
        # The same text as strftime below (which does not pad years before 1000), in half
        # the time: every event is hashed with its instant.
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return canonical_timestamp(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (uuid.UUID, date)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not allowed in audit details")


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


def canonical_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """``details`` as JSON gives it back: what is hashed is exactly what the database returns.

    UUIDs, dates, enums and sets become strings and lists, keys become strings; NaN and
    infinities are refused (JSON has none). Stored and hashed as this value, an event read
    back from SQLite or PostgreSQL hashes the same as at write time.
    """
    encoded = json.dumps(dict(details or {}), default=_json_default, allow_nan=False)
    decoded = _clean_json(json.loads(encoded))
    if not isinstance(decoded, dict):  # pragma: no cover - dict() above guarantees an object
        raise TypeError("audit details must be an object")
    return decoded


def _canonical(name: str, value: Any) -> Any:
    # Stored values are hashed as they are (never cleaned here): verification must see every
    # change, so only record_event cleans, before the first hash.
    if isinstance(value, datetime):
        return canonical_timestamp(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if value is None or isinstance(value, (str, int, dict)):
        return value
    raise TypeError(f"audit field {name} has unexpected type {type(value).__name__}")


# Values already canonical, by exact type: most of an event's fields, taken without _canonical's
# checks (a sync hashes 100,000 events; subclasses still go through _canonical).
_AS_THEY_ARE = frozenset({str, int, dict, type(None)})


def canonical_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed fields in their canonical JSON form (also the shape of export lines)."""
    document = {}
    for name in HASHED_FIELDS:
        value = fields[name]
        document[name] = value if type(value) in _AS_THEY_ARE else _canonical(name, value)
    return document


# One encoder for every hash (json.dumps with options builds a new one per call).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_PLAIN_LEAVES = frozenset({str, int, bool, type(None)})


def _orjson_encodes_alike(value: Any) -> bool:
    """Whether orjson gives exactly _ENCODER's text for ``value``.

    For str, int, bool, None, lists and str-keyed dicts, of exactly those types, it does:
    compact, keys in code point order, non-ASCII as is, the same escapes (tests/unit/
    test_chain_encoding.py compares them over generated documents). Floats are spelt
    differently (1e+16 against 1e16), other types are encoded by orjson and refused by json:
    those go to _ENCODER. orjson refuses, and leaves to _ENCODER too, integers beyond 64 bits
    and lone surrogates.
    """
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return True
    if kind is dict:
        return all(type(k) is str and _orjson_encodes_alike(v) for k, v in value.items())
    if kind is list:
        return all(_orjson_encodes_alike(v) for v in value)
    return False


def canonical_json(document: dict[str, Any]) -> bytes:
    """The UTF-8 of ``document`` as _ENCODER writes it: the bytes an event hash covers."""
    # orjson where it writes the same bytes: 0.5 us against json's 4 for an event, and a sync
    # hashes 100,000 of them (bench/directory_sync.py, issue 13).
    if _orjson_encodes_alike(document):
        try:
            return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
    # surrogatepass: a tampered row must give a wrong hash, not an exception.
    return _ENCODER.encode(document).encode("utf-8", "surrogatepass")


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of the hashed fields and the previous hash."""
    document = canonical_fields(fields)
    document["prev_hash"] = prev_hash
    return hashlib.sha256(canonical_json(document)).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    """The first place the chain does not hold; ``event_id`` is None for a missing event."""

    seq: int
    event_id: str | None
    reason: BreakReason


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken: BrokenLink | None
    last_hash: str

    @property
    def valid(self) -> bool:
        return self.first_broken is None


def verify_chain(
    organisation_id: str,
    events: Iterable[Mapping[str, Any]],
    *,
    head: ChainHead | None = None,
    start: ChainHead | None = None,
) -> ChainReport:
    """Recompute the chain in `seq` order and report the first link that does not hold.

    With ``head``, ``events`` are the events up to ``head.seq`` and must end exactly there:
    a chain whose last events were deleted (or rewritten) is caught by the head. With
    ``start`` (the checkpoint of pruned events), the chain resumes after ``start.seq`` and its
    first event must link to ``start.hash``; without it, it begins at the genesis.
    """
    offset = start.seq if start is not None else 0
    expected_prev = start.hash if start is not None else genesis_hash(organisation_id)
    checked = 0
    last_id: str | None = None
    for event in events:
        checked += 1
        seq = offset + checked
        event_id = str(event["id"])
        broken: BrokenLink | None = None
        if event["seq"] != seq:
            broken = BrokenLink(seq, None, BreakReason.missing_event)
        elif event["prev_hash"] != expected_prev:
            broken = BrokenLink(seq, event_id, BreakReason.prev_hash_mismatch)
        elif event_hash(event, event["prev_hash"]) != event["hash"]:
            broken = BrokenLink(seq, event_id, BreakReason.content_altered)
        if broken is not None:
            return ChainReport(checked, broken, expected_prev)
        expected_prev = event["hash"]
        last_id = event_id
    last_seq = offset + checked
    if head is not None and head.seq > last_seq:
        broken = BrokenLink(last_seq + 1, None, BreakReason.missing_event)
        return ChainReport(checked, broken, expected_prev)
    if head is not None and (head.seq != last_seq or head.hash != expected_prev):
        broken = BrokenLink(last_seq, last_id, BreakReason.head_mismatch)
        return ChainReport(checked, broken, expected_prev)
    return ChainReport(checked, None, expected_prev)
