"""Recorded events read back from the database hash exactly as they did when written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

import pytest
import time_machine
from sqlalchemy import select

from facito_admin.audit.chain import HASHED_FIELDS, event_hash
from facito_admin.audit.models import AuditChainHead, AuditEvent
from facito_admin.audit.sealing import seal_pending
from facito_admin.audit.service import (
    AuditChainError,
    events_query,
    iter_events,
    record_event,
)
from facito_admin.audit.verification import verify_organisation_chain
from facito_admin.db.session import unit_of_work
from facito_admin.tenants.models import Organisation
from tests.factories.audit import admin_ctx, record_events, record_unsealed


class Colour(StrEnum):
    blue = "blue"


def _read_back(runtime, organisation_id: uuid.UUID, event_id: uuid.UUID) -> AuditEvent:
    with runtime.session(organisation_id=organisation_id) as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.id == event_id)).scalar_one()
        session.expunge(event)
        return event


def test_an_event_with_awkward_values_hashes_the_same_after_reading_back(runtime, org_a, org_b):
    instant = datetime(2030, 7, 1, 9, 30, 15, 123456, tzinfo=UTC)
    details = {
        "uuid": uuid.UUID(int=7),
        "when": datetime(2030, 1, 1, tzinfo=UTC),
        "colour": Colour.blue,
        "float": 0.1 + 0.2,
        "big": 2**70,
        "neg": -0.0,
        "unicode": "Zoë 🇳🇱 \u2028",
        "nul": "a\x00b",
        "nested": {"list": [1, None, True, {"z": "y"}], 3: "int key"},
        "empty": {},
    }
    with time_machine.travel(instant, tick=False):
        (written,) = record_events(
            runtime, org_a.id, 1, display="Ada \x00 Lovelace", details=details
        )
    read = _read_back(runtime, org_a.id, written.id)
    assert read.occurred_at == instant
    assert read.occurred_at.tzinfo is not None
    for name in HASHED_FIELDS:
        assert getattr(read, name) == getattr(written, name), name
    assert read.details["nested"] == {"list": [1, None, True, {"z": "y"}], "3": "int key"}
    assert read.details["nul"] == "a\ufffdb"
    assert read.actor_display == "Ada \ufffd Lovelace"
    fields = {name: getattr(read, name) for name in HASHED_FIELDS}
    assert event_hash(fields, read.prev_hash) == read.hash == written.hash


def test_details_that_json_cannot_carry_are_refused_before_anything_is_written(
    runtime, org_a, org_b
):
    with pytest.raises(ValueError, match="JSON compliant"):
        record_events(runtime, org_a.id, 1, details={"x": float("inf")})
    with runtime.session(organisation_id=org_a.id) as session:
        assert session.scalar(select(AuditChainHead.seq)) == 1


def test_a_sealer_session_still_holding_an_old_head_links_to_the_real_last_event(
    runtime, org_a, org_b
):
    first = runtime.session(organisation_id=org_a.id, write=True)
    try:
        # This session keeps its head object across commits (expire_on_commit=False)...
        stale = first.execute(select(AuditChainHead)).scalar_one()
        first.commit()
        # ...while another writer's events are sealed, and one more waits.
        record_events(runtime, org_a.id, 2)
        (waiting,) = record_unsealed(runtime, org_a.id, 1)
        assert seal_pending(first) == 1
        first.commit()
        assert stale.seq == 1  # never trusted: the sealer reads the head afresh
    finally:
        first.close()
    with runtime.session(organisation_id=org_a.id) as session:
        assert session.get(AuditEvent, (org_a.id, waiting)).seq == 4
        assert verify_organisation_chain(session).valid


def test_recording_in_a_read_session_is_refused_on_sqlite(runtime, org_a, org_b):
    if not runtime.database.is_sqlite:
        pytest.skip("PostgreSQL writes from any transaction; SQLite needs BEGIN IMMEDIATE")
    with runtime.session(organisation_id=org_a.id) as session, pytest.raises(AuditChainError):
        record_event(session, admin_ctx(org_a.id), action="x:y:z", target_type="t", target_id="1")


def test_iterating_detaches_only_the_events_it_hands_out(runtime, org_a, org_b):
    record_events(runtime, org_a.id, 250)
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        organisation = session.get(Organisation, org_a.id)
        record_event(session, admin_ctx(org_a.id), action="x:y:z", target_type="t", target_id="1")
        # The event just recorded waits for this transaction's commit to be sealed.
        seqs = [e.seq for e in iter_events(session, events_query(), batch=40)]
        assert seqs == list(range(1, 252))
        assert organisation in session
        assert not any(isinstance(obj, AuditEvent) for obj in session.identity_map.values())
    with runtime.session(organisation_id=org_a.id) as session:
        assert session.scalar(select(AuditChainHead.seq)) == 252
        assert verify_organisation_chain(session).checked == 252


def test_newest_first_iteration_covers_every_event(runtime, org_a, org_b):
    record_events(runtime, org_a.id, 99)
    with runtime.session(organisation_id=org_a.id) as session:
        seqs = [e.seq for e in iter_events(session, events_query(), batch=25, descending=True)]
    assert seqs == list(range(100, 0, -1))


def test_naive_since_is_refused_by_the_service(runtime, org_a, org_b):
    from facito_admin.audit.service import EventFilter
    from facito_admin.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        events_query(EventFilter(since=datetime(2030, 1, 1)))  # noqa: DTZ001 - under test
