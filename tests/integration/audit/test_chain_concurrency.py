"""Concurrent writers never fork a chain: seq stays 1..n without gaps, and the chain verifies."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.audit.service import record_event
from facito_admin.audit.verification import verify_organisation_chain
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.audit import admin_ctx

WRITERS = 8
ROUNDS = 4
PER_ROUND = 5


def _writer(runtime: Runtime, organisation_id: uuid.UUID, start: threading.Barrier) -> int:
    """Append PER_ROUND events per round, committing each round, in one reused session."""
    ctx = admin_ctx(organisation_id)
    # One session for all rounds: its identity map still holds the chain head of the previous
    # round when the next one starts (expire_on_commit=False), the case that forked chains.
    session = runtime.session(organisation_id=organisation_id, write=True)
    written = 0
    try:
        start.wait()
        for round_no in range(ROUNDS):
            for n in range(PER_ROUND):
                record_event(
                    session,
                    ctx,
                    action="org:domain:claim",
                    target_type="domain",
                    target_id=f"{ctx.principal.object_id}-{round_no}-{n}",
                )
                written += 1
            session.commit()
    finally:
        session.close()
    return written


def _verifier(runtime: Runtime, organisation_id: uuid.UUID, done: threading.Event) -> int:
    """Verify again and again while the writers append: every report must say valid."""
    runs = 0
    while not done.is_set() or runs == 0:
        with runtime.session(organisation_id=organisation_id) as session:
            report = verify_organisation_chain(session)
        assert report.valid, report
        runs += 1
    return runs


def _run(runtime: Runtime, organisations: list[uuid.UUID]) -> None:
    start = threading.Barrier(WRITERS)
    done = threading.Event()
    with ThreadPoolExecutor(max_workers=WRITERS + 1) as pool:
        verifier = pool.submit(_verifier, runtime, organisations[0], done)
        futures = [
            pool.submit(_writer, runtime, organisations[i % len(organisations)], start)
            for i in range(WRITERS)
        ]
        try:
            # .result() re-raises a writer's error ("database is locked", a unique violation).
            assert sum(f.result(timeout=120) for f in futures) == WRITERS * ROUNDS * PER_ROUND
        finally:
            done.set()
        assert verifier.result(timeout=120) >= 1


def _assert_gapless_and_valid(runtime: Runtime, org: Org, expected: int, client, auth) -> None:
    with runtime.session(organisation_id=org.id) as session:
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        report = verify_organisation_chain(session)
    # Event 1 is the organisation's creation.
    assert seqs == list(range(1, expected + 2))
    assert report.valid
    assert report.checked == expected + 1
    response = client.get(
        f"/v1/organisations/{org.id}/audit-events/verify",
        headers=auth(org, "Organisation.Admin"),
    )
    answer = response.get_json()
    assert answer == {
        "valid": True,
        "checked": expected + 1,
        "first_broken": None,
        "pruned": None,
        "head": {"seq": expected + 1, "hash": answer["head"]["hash"]},
        "waiting": {"count": 0, "oldest_recorded_at": None},
        "checkpoint": None,
    }


@pytest.mark.slow
def test_eight_writers_on_one_organisation_leave_a_gapless_valid_chain(
    client, auth, runtime, org_a, org_b
):
    _run(runtime, [org_a.id])
    _assert_gapless_and_valid(runtime, org_a, WRITERS * ROUNDS * PER_ROUND, client, auth)
    _assert_gapless_and_valid(runtime, org_b, 0, client, auth)


@pytest.mark.slow
def test_eight_writers_across_two_organisations_keep_two_gapless_chains(
    client, auth, runtime, org_a, org_b
):
    _run(runtime, [org_a.id, org_b.id])
    half = WRITERS * ROUNDS * PER_ROUND // 2
    _assert_gapless_and_valid(runtime, org_a, half, client, auth)
    _assert_gapless_and_valid(runtime, org_b, half, client, auth)
