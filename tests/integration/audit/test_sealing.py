"""Sealing: events recorded with their change are linked into the chain once, without gaps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from facito_admin.audit.models import AuditChainHead, AuditEvent, AuditPendingEvent
from facito_admin.audit.sealing import seal_organisation, seal_pending
from facito_admin.audit.verification import verify_organisation_chain
from facito_admin.audit_retention.sealing import seal_waiting_events
from facito_admin.db.session import unit_of_work
from tests.factories.audit import admin_ctx, record_events, record_unsealed

ROOT = Path(__file__).resolve().parents[3]


def _chain(runtime, org) -> tuple[list[int], bool, int]:
    """The chain's seqs, whether it verifies, and how many events still wait."""
    with runtime.session(organisation_id=org.id) as session:
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        valid = verify_organisation_chain(session).valid
        waiting = session.scalar(select(func.count()).select_from(AuditPendingEvent))
    return seqs, valid, waiting


def test_a_commit_that_recorded_events_seals_them_right_after(runtime, org_a, org_b):
    events = record_events(runtime, org_a.id, 3)
    assert [e.seq for e in events] == [2, 3, 4]
    assert _chain(runtime, org_a) == ([1, 2, 3, 4], True, 0)
    assert _chain(runtime, org_b) == ([1], True, 0)


def test_a_rolled_back_transaction_leaves_nothing_to_seal(runtime, org_a, org_b):
    session = runtime.session(organisation_id=org_a.id, write=True)
    try:
        record_events_in(session, org_a, 2)
        session.rollback()
        # The same session goes on: its next transaction keeps its own order only.
        record_events_in(session, org_a, 1)
        session.commit()
    finally:
        session.close()
    assert _chain(runtime, org_a) == ([1, 2], True, 0)


def record_events_in(session, org, count: int) -> None:
    from facito_admin.audit.service import record_event

    for n in range(count):
        record_event(
            session, admin_ctx(org.id), action="org:domain:claim", target_type="d", target_id=n
        )


def test_events_of_one_transaction_are_sealed_together_in_recording_order(runtime, org_a, org_b):
    ids = record_unsealed(runtime, org_a.id, 5)
    record_events(runtime, org_a.id, 1)
    with runtime.session(organisation_id=org_a.id) as session:
        stored = list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.seq)))
    # The creation, then the five that waited (recorded first), then the one sealed with them.
    assert stored[1:6] == ids
    assert len(stored) == 7


def test_the_scan_seals_every_organisation_with_events_waiting_in_small_batches(
    runtime, org_a, org_b
):
    record_unsealed(runtime, org_a.id, 7)
    record_unsealed(runtime, org_b.id, 2)
    assert seal_organisation(runtime, org_a.id, batch=3) == 7
    assert _chain(runtime, org_a) == (list(range(1, 9)), True, 0)
    assert seal_waiting_events(runtime) == 2
    assert _chain(runtime, org_b) == ([1, 2, 3], True, 0)
    assert seal_waiting_events(runtime) == 0


def test_a_sealer_killed_mid_batch_leaves_no_gap_and_no_double(runtime, org_a, org_b):
    record_unsealed(runtime, org_a.id, 6)
    record_unsealed(runtime, org_b.id, 2)
    sealer = subprocess.Popen(  # noqa: S603 - our own module, arguments from the test
        [
            sys.executable,
            "-m",
            "tests.integration.audit.killed_sealer",
            runtime.database.url,
            str(org_a.id),
            "4",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sealer.stdout is not None
        # The first batch of 4 committed; the second (2 events) is written but not committed.
        assert sealer.stdout.readline().strip() == "mid-batch 2"
    finally:
        sealer.send_signal(signal.SIGKILL)
        sealer.wait(timeout=30)
    assert sealer.returncode == -signal.SIGKILL
    seqs, valid, waiting = _chain(runtime, org_a)
    assert (seqs, valid, waiting) == ([1, 2, 3, 4, 5], True, 2)

    assert seal_organisation(runtime, org_a.id) == 2
    assert _chain(runtime, org_a) == (list(range(1, 8)), True, 0)
    # The other organisation's waiting events were never touched.
    assert _chain(runtime, org_b)[2] == 2


def test_concurrent_sealers_of_one_organisation_seal_each_event_once(runtime, org_a, org_b):
    record_unsealed(runtime, org_a.id, 300)
    start = threading.Barrier(4)

    def seal() -> int:
        start.wait()
        return seal_organisation(runtime, org_a.id, batch=25)

    with ThreadPoolExecutor(max_workers=4) as pool:
        sealed = [f.result(timeout=120) for f in [pool.submit(seal) for _ in range(4)]]
    assert sum(sealed) == 300
    assert _chain(runtime, org_a) == (list(range(1, 302)), True, 0)


def test_a_batch_hook_sees_the_batch_before_the_head_moves(runtime, org_a, org_b):
    record_unsealed(runtime, org_a.id, 3)
    seen: list[int] = []
    with unit_of_work(runtime, organisation_id=org_a.id) as session:

        def look(written: int) -> None:
            seen.append(written)
            # Written into the chain, but the head has not moved yet.
            assert session.scalar(select(AuditChainHead.seq)) == 1

        assert seal_pending(session, mid_batch=look) == 3
    assert seen == [3]
    assert _chain(runtime, org_a) == ([1, 2, 3, 4], True, 0)
