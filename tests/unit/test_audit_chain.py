"""The hash chain alone: canonical values, hashes, and the first broken link it reports."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import pytest

from facito_admin.audit.chain import (
    BreakReason,
    ChainHead,
    canonical_details,
    canonical_timestamp,
    clean_text,
    event_hash,
    genesis_hash,
    verify_chain,
)

ORG = "0191d0c0-0000-7000-8000-000000000001"


def _chain(length: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    prev = genesis_hash(ORG)
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for seq in range(1, length + 1):
        event: dict[str, Any] = {
            "id": str(uuid.UUID(int=seq)),
            "organisation_id": ORG,
            "seq": seq,
            "occurred_at": canonical_timestamp(start + timedelta(seconds=seq)),
            "actor_kind": "organisation_user",
            "actor_tid": "t",
            "actor_oid": "o",
            "actor_display": "Ada",
            "action": "org:domain:claim",
            "target_type": "domain",
            "target_id": f"d{seq}",
            "outcome": "success",
            "request_id": f"r{seq}",
            "details": {"n": seq},
            "prev_hash": prev,
        }
        event["hash"] = event_hash(event, prev)
        prev = event["hash"]
        events.append(event)
    return events


def _head(events: list[dict[str, Any]]) -> ChainHead:
    return ChainHead(seq=len(events), hash=events[-1]["hash"] if events else genesis_hash(ORG))


def test_an_intact_chain_is_valid_and_every_event_is_checked():
    events = _chain(5)
    report = verify_chain(ORG, events, head=_head(events))
    assert report.valid
    assert report.checked == 5
    assert report.last_hash == events[-1]["hash"]


def test_an_empty_chain_is_valid_against_a_genesis_head():
    report = verify_chain(ORG, [], head=ChainHead(0, genesis_hash(ORG)))
    assert report.valid
    assert report.checked == 0


def test_the_genesis_hash_differs_per_organisation():
    assert genesis_hash(ORG) != genesis_hash(str(uuid.uuid4()))


def test_an_edited_field_is_reported_as_content_altered_at_that_event():
    events = _chain(5)
    events[2]["actor_display"] = "Mallory"
    report = verify_chain(ORG, events, head=_head(events))
    assert report.first_broken is not None
    assert (report.first_broken.seq, report.first_broken.event_id) == (3, events[2]["id"])
    assert report.first_broken.reason is BreakReason.content_altered


def test_an_edited_detail_value_is_detected():
    events = _chain(3)
    events[0]["details"] = {"n": 2}
    report = verify_chain(ORG, events)
    assert report.first_broken is not None
    assert report.first_broken.reason is BreakReason.content_altered


def test_a_rewritten_event_with_a_recomputed_hash_breaks_the_next_link():
    events = _chain(4)
    events[1]["target_id"] = "forged"
    events[1]["hash"] = event_hash(events[1], events[1]["prev_hash"])
    report = verify_chain(ORG, events, head=_head(events))
    assert report.first_broken is not None
    assert (report.first_broken.seq, report.first_broken.reason) == (
        3,
        BreakReason.prev_hash_mismatch,
    )


def test_a_deleted_event_in_the_middle_is_reported_missing_at_its_position():
    events = _chain(5)
    head = _head(events)
    del events[2]
    report = verify_chain(ORG, events, head=head)
    assert report.first_broken is not None
    assert report.first_broken.seq == 3
    assert report.first_broken.event_id is None
    assert report.first_broken.reason is BreakReason.missing_event


def test_a_deleted_first_event_is_reported_missing():
    events = _chain(2)
    report = verify_chain(ORG, events[1:], head=_head(events))
    assert report.first_broken is not None
    assert (report.first_broken.seq, report.first_broken.reason) == (1, "missing-event")


def test_deleted_last_events_are_caught_by_the_head():
    events = _chain(5)
    head = _head(events)
    report = verify_chain(ORG, events[:3], head=head)
    assert report.first_broken is not None
    assert (report.first_broken.seq, report.first_broken.event_id) == (4, None)
    assert report.first_broken.reason is BreakReason.missing_event


def test_a_head_that_points_elsewhere_is_a_head_mismatch():
    events = _chain(3)
    report = verify_chain(ORG, events, head=ChainHead(3, "0" * 64))
    assert report.first_broken is not None
    assert report.first_broken.reason is BreakReason.head_mismatch
    assert (report.first_broken.seq, report.first_broken.event_id) == (3, events[2]["id"])


def test_the_hash_covers_the_previous_hash():
    event = _chain(1)[0]
    assert event_hash(event, "a" * 64) != event_hash(event, "b" * 64)


def test_datetimes_and_their_canonical_text_hash_the_same():
    event = _chain(1)[0]
    as_datetime = {**event, "occurred_at": datetime.fromisoformat(event["occurred_at"])}
    assert event_hash(as_datetime, event["prev_hash"]) == event["hash"]


def test_the_same_instant_in_another_timezone_hashes_the_same():
    event = _chain(1)[0]
    instant = datetime.fromisoformat(event["occurred_at"])
    amsterdam = instant.astimezone(timezone(timedelta(hours=1)))
    assert event_hash({**event, "occurred_at": amsterdam}, event["prev_hash"]) == event["hash"]


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_timestamp(datetime(2025, 1, 1))  # noqa: DTZ001 - the naive value under test


def test_details_become_what_json_gives_back():
    class Colour(StrEnum):
        red = "red"

    ident = uuid.uuid4()
    when = datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    details = {
        "id": ident,
        "when": when,
        "colour": Colour.red,
        "tags": {"b", "a"},
        "pair": (1, 2),
        1: "int key",
        "nested": {"x": [1.5, None, True]},
    }
    canonical = canonical_details(details)
    assert canonical == {
        "id": str(ident),
        "when": "2025-01-02T03:04:05.000006Z",
        "colour": "red",
        "tags": ["a", "b"],
        "pair": [1, 2],
        "1": "int key",
        "nested": {"x": [1.5, None, True]},
    }
    assert json.loads(json.dumps(canonical)) == canonical
    assert canonical_details(canonical) == canonical


def test_details_refuse_nan_and_unknown_types():
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_details({"x": float("nan")})
    with pytest.raises(TypeError, match="not allowed"):
        canonical_details({"x": object()})


def test_unstorable_characters_are_replaced_before_hashing():
    assert clean_text("a\x00b\ud800c") == "a\ufffdb\ufffdc"
    assert canonical_details({"k\x00": ["\udfff"]}) == {"k\ufffd": ["\ufffd"]}


def test_a_tampered_lone_surrogate_gives_a_wrong_hash_not_an_error():
    events = _chain(1)
    events[0]["actor_display"] = "\ud800"
    report = verify_chain(ORG, events)
    assert report.first_broken is not None
    assert report.first_broken.reason is BreakReason.content_altered


def test_a_pruned_chain_verifies_from_the_checkpoint_of_its_last_pruned_event():
    events = _chain(6)
    start = ChainHead(seq=2, hash=events[1]["hash"])
    report = verify_chain(ORG, events[2:], head=_head(events), start=start)
    assert report.valid
    assert report.checked == 4


def test_a_pruned_chain_with_a_wrong_checkpoint_hash_breaks_at_its_first_remaining_event():
    events = _chain(6)
    report = verify_chain(ORG, events[2:], head=_head(events), start=ChainHead(2, "0" * 64))
    assert report.first_broken is not None
    assert (report.first_broken.seq, report.first_broken.reason) == (
        3,
        BreakReason.prev_hash_mismatch,
    )


def test_an_event_missing_right_after_the_checkpoint_is_reported_at_its_seq():
    events = _chain(6)
    start = ChainHead(seq=2, hash=events[1]["hash"])
    report = verify_chain(ORG, events[3:], head=_head(events), start=start)
    assert report.first_broken is not None
    assert (report.first_broken.seq, report.first_broken.event_id) == (3, None)
    assert report.first_broken.reason is BreakReason.missing_event


def test_a_chain_pruned_up_to_its_head_is_valid_when_the_head_is_the_checkpoint():
    events = _chain(3)
    start = ChainHead(seq=3, hash=events[-1]["hash"])
    assert verify_chain(ORG, [], head=_head(events), start=start).valid
