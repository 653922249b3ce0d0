"""Audit events past the organisation's retention are pruned by a job; /verify still proves the
rest from the checkpoint, and any edit of the rest, of the checkpoint or of its boundary shows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from facito_admin.audit.chain import ChainHead, verify_chain
from facito_admin.audit_retention import tasks
from facito_admin.audit_retention.tasks import enqueue_due_prunes
from facito_admin.db.base import utcnow
from facito_admin.jobs.models import JobState
from tests.api.contracts.helpers import OPERATOR, contract_body, contracts_url, create_contract
from tests.conftest import TENANT_A, TENANT_B, Org
from tests.factories.audit import record_events
from tests.integration.audit.helpers import (
    enqueue_prune,
    events_at,
    organisation_since,
    prune_jobs,
    run,
    stored_events,
)
from tests.integration.audit.test_tampering import _sql

ADMIN = "Organisation.Admin"
PRUNE = "org:audit-log:prune"


def _url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/audit-events{suffix}"


def _verify(client, auth, org: Org) -> dict:
    response = client.get(_url(org, "/verify"), headers=auth(org, ADMIN))
    assert response.status_code == 200
    return response.get_json()


def _scan_and_run(runtime, org: Org):
    [job] = prune_jobs(runtime, org)
    return run(runtime, org, job.id)


@pytest.fixture
def histories(runtime):
    """Org A: created 800 days ago, 4 events then, 3 events 100 days ago, 2 now. Org B: created
    400 days ago with 3 events then (inside the default 730 days)."""
    org_a = organisation_since(runtime, "org-a", TENANT_A, days=800)
    events_at(runtime, org_a, 4, days=800)
    events_at(runtime, org_a, 3, days=100)
    record_events(runtime, org_a.id, 2)
    org_b = organisation_since(runtime, "org-b", TENANT_B, days=400)
    events_at(runtime, org_b, 3, days=400)
    return org_a, org_b


def test_events_past_the_retention_are_pruned_and_the_rest_still_verifies(
    client, auth, runtime, histories
):
    org_a, org_b = histories
    b_before = stored_events(runtime, org_b)
    started = utcnow()

    assert enqueue_due_prunes(runtime) == 1
    assert enqueue_due_prunes(runtime) == 0  # one already queued
    assert prune_jobs(runtime, org_b) == []
    job = _scan_and_run(runtime, org_a)
    assert job.state is JobState.succeeded
    assert job.result is not None
    assert job.result["pruned"] == 5  # the creation and the 4 events of 800 days ago
    shown = client.get(f"/v1/organisations/{org_a.id}/jobs/{job.id}", headers=auth(org_a, ADMIN))
    assert shown.status_code == 200
    body = shown.get_json()
    assert (body["state"], body["progress_done"], body["progress_total"]) == ("succeeded", 5, 5)

    remaining = stored_events(runtime, org_a)
    assert [e.seq for e in remaining] == list(range(6, 12))
    cutoff = started - timedelta(days=730)
    assert all(e.occurred_at >= cutoff for e in remaining)
    prune = remaining[-1]
    assert prune.action == PRUNE
    assert prune.details["pruned"] == 5
    assert prune.details["through_seq"] == 5
    assert prune.details["through_hash"] == remaining[0].prev_hash

    report = _verify(client, auth, org_a)
    assert (report["valid"], report["checked"], report["first_broken"]) == (True, 6, None)
    assert report["pruned"]["through_seq"] == 5
    assert report["pruned"]["through_hash"] == remaining[0].prev_hash
    assert report["pruned"]["count"] == 5
    assert datetime.fromisoformat(report["pruned"]["at"]) >= started

    # Org B: nothing pruned, nothing changed.
    assert [e.hash for e in stored_events(runtime, org_b)] == [e.hash for e in b_before]
    report_b = _verify(client, auth, org_b)
    assert report_b == {
        "valid": True,
        "checked": 4,
        "first_broken": None,
        "pruned": None,
        "head": {"seq": 4, "hash": b_before[-1].hash},
        "waiting": {"count": 0, "oldest_recorded_at": None},
        "checkpoint": None,
    }
    # Nothing is due any more.
    assert enqueue_due_prunes(runtime) == 0


def test_listing_and_export_still_work_after_pruning(client, auth, runtime, histories):
    org_a, _ = histories
    enqueue_due_prunes(runtime)
    _scan_and_run(runtime, org_a)
    headers = auth(org_a, ADMIN)

    listed = client.get(_url(org_a), query_string={"order": "asc"}, headers=headers)
    assert listed.status_code == 200
    assert [e["seq"] for e in listed.get_json()["items"]] == list(range(6, 12))

    exported = client.get(_url(org_a, "/export"), headers=headers)
    assert exported.status_code == 200
    lines = [json.loads(line) for line in exported.get_data(as_text=True).splitlines()]
    assert [line["seq"] for line in lines] == list(range(6, 12))
    # An auditor verifies the export from the checkpoint /verify reports.
    pruned = _verify(client, auth, org_a)["pruned"]
    start = ChainHead(pruned["through_seq"], pruned["through_hash"])
    assert verify_chain(str(org_a.id), lines, start=start).valid
    assert not verify_chain(str(org_a.id), lines).valid  # not from the genesis any more


def test_a_contract_with_a_shorter_retention_prunes_more(client, auth, runtime):
    org_a = organisation_since(runtime, "org-a", TENANT_A, days=100)
    org_b = organisation_since(runtime, "org-b", TENANT_B, days=100)
    for org in (org_a, org_b):
        events_at(runtime, org, 3, days=100)
        events_at(runtime, org, 2, days=10)
    create_contract(
        client,
        org_a,
        auth(None, OPERATOR),
        start=utcnow() - timedelta(days=200),
        overrides={"audit.retention_days": 30},
    )

    assert enqueue_due_prunes(runtime) == 1
    job = _scan_and_run(runtime, org_a)
    assert job.result is not None
    assert job.result["pruned"] == 4
    assert all(e.occurred_at > utcnow() - timedelta(days=30) for e in stored_events(runtime, org_a))
    assert _verify(client, auth, org_a)["valid"] is True
    # Org B keeps the default 730 days: its 100-day-old events stay.
    assert prune_jobs(runtime, org_b) == []
    assert [e.seq for e in stored_events(runtime, org_b)] == list(range(1, 7))


def test_a_contract_cannot_set_a_retention_below_30_days(client, auth, runtime, org_a):
    response = client.post(
        contracts_url(org_a),
        json=contract_body(overrides={"audit.retention_days": 29}),
        headers=auth(None, OPERATOR),
    )
    assert response.status_code == 422


def test_a_job_killed_between_batches_resumes_after_its_last_batch(
    client, auth, runtime, histories, monkeypatch
):
    org_a, _ = histories
    job_id = enqueue_prune(runtime, org_a, batch=2)
    real = tasks.prune_events
    calls = {"n": 0}

    def dies_in_the_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "prune_events", dies_in_the_second_batch)
    first = run(runtime, org_a, job_id)
    assert (first.state, first.checkpoint["pruned"], first.progress_done) == (
        JobState.queued,
        2,
        2,
    )
    assert [e.seq for e in stored_events(runtime, org_a)][:1] == [3]

    done = run(runtime, org_a, job_id)
    assert done.state is JobState.succeeded
    assert done.attempts == 2
    assert done.result is not None
    assert done.result["pruned"] == 5
    prunes = [e.details for e in stored_events(runtime, org_a) if e.action == PRUNE]
    # One event per committed batch, none for the batch that died; the oldest ones may have
    # been pruned themselves by later batches.
    assert prunes[-1]["through_seq"] == 5
    assert prunes[-1]["pruned_total"] == 5
    report = _verify(client, auth, org_a)
    assert report["valid"] is True
    assert report["pruned"]["count"] == 5


def test_pruning_refuses_a_chain_whose_old_events_were_tampered_with(
    client, auth, runtime, histories
):
    org_a, _ = histories
    victim = stored_events(runtime, org_a)[2]
    _sql(
        runtime,
        "UPDATE audit_events SET actor_display = 'Mallory' WHERE organisation_id = :org"
        " AND id = :id",
        org=org_a.id,
        id=victim.id,
    )
    enqueue_due_prunes(runtime)
    job = _scan_and_run(runtime, org_a)
    assert job.state is JobState.failed  # at once: a broken chain does not mend itself
    assert job.error is not None
    assert "broken at seq 3" in job.error
    assert len(stored_events(runtime, org_a)) == 10
    assert _verify(client, auth, org_a)["first_broken"]["reason"] == "content-altered"


def _pruned(client, auth, runtime, org_a: Org) -> dict:
    enqueue_due_prunes(runtime)
    _scan_and_run(runtime, org_a)
    return _verify(client, auth, org_a)["pruned"]


def test_an_edited_remaining_event_is_still_detected(client, auth, runtime, histories):
    org_a, _ = histories
    _pruned(client, auth, runtime, org_a)
    victim = stored_events(runtime, org_a)[1]
    _sql(
        runtime,
        "UPDATE audit_events SET target_id = 'else' WHERE organisation_id = :org AND id = :id",
        org=org_a.id,
        id=victim.id,
    )
    assert _verify(client, auth, org_a)["first_broken"] == {
        "seq": 7,
        "event_id": str(victim.id),
        "reason": "content-altered",
    }


def test_an_edited_checkpoint_hash_is_detected(client, auth, runtime, histories):
    org_a, _ = histories
    _pruned(client, auth, runtime, org_a)
    first = stored_events(runtime, org_a)[0]
    _sql(
        runtime,
        "UPDATE audit_prune_checkpoints SET hash = :h WHERE organisation_id = :org",
        h="0" * 64,
        org=org_a.id,
    )
    report = _verify(client, auth, org_a)
    assert report["first_broken"] == {
        "seq": 6,
        "event_id": str(first.id),
        "reason": "prev-hash-mismatch",
    }


def test_an_event_deleted_at_the_boundary_is_detected(client, auth, runtime, histories):
    org_a, _ = histories
    _pruned(client, auth, runtime, org_a)
    first = stored_events(runtime, org_a)[0]
    _sql(
        runtime,
        "DELETE FROM audit_events WHERE organisation_id = :org AND id = :id",
        org=org_a.id,
        id=first.id,
    )
    assert _verify(client, auth, org_a)["first_broken"] == {
        "seq": 6,
        "event_id": None,
        "reason": "missing-event",
    }


def test_a_boundary_deletion_hidden_by_moving_the_checkpoint_is_detected(
    client, auth, runtime, histories
):
    """Whoever deletes the first remaining event and moves the checkpoint onto it (seq, hash
    and count all consistent) still disagrees with the chain's own record of the prune."""
    org_a, _ = histories
    _pruned(client, auth, runtime, org_a)
    first = stored_events(runtime, org_a)[0]
    _sql(
        runtime,
        "DELETE FROM audit_events WHERE organisation_id = :org AND id = :id",
        org=org_a.id,
        id=first.id,
    )
    _sql(
        runtime,
        "UPDATE audit_prune_checkpoints SET seq = 6, hash = :h, pruned_count = 6"
        " WHERE organisation_id = :org",
        h=first.hash,
        org=org_a.id,
    )
    prune = stored_events(runtime, org_a)[-1]
    assert _verify(client, auth, org_a)["first_broken"] == {
        "seq": prune.seq,
        "event_id": str(prune.id),
        "reason": "checkpoint-mismatch",
    }


def test_a_deleted_checkpoint_is_detected(client, auth, runtime, histories):
    org_a, org_b = histories
    _pruned(client, auth, runtime, org_a)
    _sql(runtime, "DELETE FROM audit_prune_checkpoints WHERE organisation_id = :org", org=org_a.id)
    report = _verify(client, auth, org_a)
    assert report["valid"] is False
    assert report["pruned"] is None
    assert _verify(client, auth, org_b)["valid"] is True
