"""A checkpoint the customer kept exposes history rewritten with every later hash and the head
recomputed (which the chain alone cannot show), says precisely what pruning hides, and is made
daily for every organisation whose head moved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from facito_admin.audit.chain import HASHED_FIELDS, event_hash
from facito_admin.audit.checkpoints import MadeBy, issue_checkpoint
from facito_admin.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from facito_admin.audit.pruning import prune_events
from facito_admin.audit_checkpoints.tasks import checkpoint_moved_heads
from facito_admin.db.base import utcnow
from facito_admin.db.session import cross_organisation_session, unit_of_work
from facito_admin.jobs import system_context
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Organisation, OrganisationStatus
from tests.conftest import Org
from tests.factories.audit import record_events

ADMIN = "Organisation.Admin"


def _verify(client, auth, org: Org, checkpoint: str | None = None) -> dict:
    query = {} if checkpoint is None else {"checkpoint": checkpoint}
    response = client.get(
        f"/v1/organisations/{org.id}/audit-events/verify",
        headers=auth(org, ADMIN),
        query_string=query,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _kept_checkpoint(client, auth, org: Org) -> dict:
    """A checkpoint as the customer keeps it (from the API; the webhook carries the same)."""
    response = client.post(
        f"/v1/organisations/{org.id}/audit-checkpoints", headers=auth(org, ADMIN)
    )
    assert response.status_code == 201
    return response.get_json()


def _rewrite_history(runtime: Runtime, org: Org, *, seq: int, details: dict[str, Any]) -> None:
    """What someone with write access to the database could do: change an event, then recompute
    every later hash and the head, so that the chain verifies again."""
    with cross_organisation_session(runtime, reason="test: rewrite the audit history") as session:
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.organisation_id == org.id, AuditEvent.seq >= seq)
                .order_by(AuditEvent.seq)
            )
        )
        prev_hash = events[0].prev_hash
        for event in events:
            fields = {name: getattr(event, name) for name in HASHED_FIELDS}
            if event.seq == seq:
                fields["details"] = details
            digest = event_hash(fields, prev_hash)
            session.execute(
                update(AuditEvent)
                .where(AuditEvent.organisation_id == org.id, AuditEvent.id == event.id)
                .values(details=fields["details"], prev_hash=prev_hash, hash=digest)
            )
            prev_hash = digest
        session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.organisation_id == org.id)
            .values(hash=prev_hash)
        )


def _cut_back(runtime: Runtime, org: Org, *, to_seq: int) -> None:
    """Delete the events after ``to_seq`` and move the head back to it, consistently."""
    with cross_organisation_session(runtime, reason="test: cut the audit history") as session:
        last = session.scalar(
            select(AuditEvent.hash).where(
                AuditEvent.organisation_id == org.id, AuditEvent.seq == to_seq
            )
        )
        session.execute(
            AuditEvent.__table__.delete().where(
                AuditEvent.__table__.c.organisation_id == org.id,
                AuditEvent.__table__.c.seq > to_seq,
            )
        )
        session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.organisation_id == org.id)
            .values(seq=to_seq, hash=last)
        )


def test_the_customers_checkpoint_exposes_history_rewritten_with_every_later_hash(
    client, auth, runtime, org_a, org_b
):
    record_events(runtime, org_a.id, 4, details={"role": "reader"})
    kept = _kept_checkpoint(client, auth, org_a)
    record_events(runtime, org_a.id, 2)
    assert _verify(client, auth, org_a, kept["jws"])["checkpoint"]["matches"] is True

    # Event 3 said someone became a reader; now it says nothing of the kind.
    _rewrite_history(runtime, org_a, seq=3, details={"n": 1, "role": "nobody"})

    plain = _verify(client, auth, org_a)
    assert plain["valid"] is True, "the rewrite is consistent: the chain alone cannot see it"
    report = _verify(client, auth, org_a, kept["jws"])
    assert report["valid"] is True
    assert report["checkpoint"] | {"issued_at": None} == {
        "seq": kept["seq"],
        "hash": kept["hash"],
        "issued_at": None,
        "key_id": kept["key_id"],
        "matches": False,
        "reason": "hash-mismatch",
        "first_broken": None,
    }
    # The other organisation's chain and checkpoints are untouched.
    theirs = _kept_checkpoint(client, auth, org_b)
    assert _verify(client, auth, org_b, theirs["jws"])["checkpoint"]["matches"] is True


def test_a_chain_cut_back_before_the_checkpoint_is_exposed(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, 4)
    kept = _kept_checkpoint(client, auth, org_a)
    _cut_back(runtime, org_a, to_seq=3)
    assert _verify(client, auth, org_a)["valid"] is True
    check = _verify(client, auth, org_a, kept["jws"])["checkpoint"]
    assert (check["matches"], check["reason"]) == (False, "beyond-head")


def test_an_event_after_the_checkpoint_edited_alone_breaks_the_chain_after_it(
    client, auth, runtime, org_a, org_b
):
    record_events(runtime, org_a.id, 2)
    kept = _kept_checkpoint(client, auth, org_a)
    later = record_events(runtime, org_a.id, 2)
    with cross_organisation_session(runtime, reason="test: edit one event") as session:
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.organisation_id == org_a.id, AuditEvent.id == later[1].id)
            .values(actor_display="Mallory")
        )
    check = _verify(client, auth, org_a, kept["jws"])["checkpoint"]
    assert (check["matches"], check["reason"]) == (False, "broken-after")
    assert check["first_broken"] == {
        "seq": later[1].seq,
        "event_id": str(later[1].id),
        "reason": "content-altered",
    }


def _prune(runtime: Runtime, org: Org, count: int) -> int:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        return prune_events(
            session,
            system_context("test-prune"),
            before=utcnow() + timedelta(days=1),
            limit=count,
        )


def test_a_pruned_checkpoint_is_confirmed_by_the_prune_checkpoint_only_at_its_own_seq(
    client, auth, runtime, org_a, org_b
):
    record_events(runtime, org_a.id, 4)
    kept = _kept_checkpoint(client, auth, org_a)
    assert kept["seq"] == 5
    # Events 1 to 5 go: the last one pruned is the checkpoint's.
    assert _prune(runtime, org_a, 5) == 5
    report = _verify(client, auth, org_a, kept["jws"])
    assert report["pruned"]["through_seq"] == 5
    assert (report["checkpoint"]["matches"], report["checkpoint"]["reason"]) == (
        True,
        "extended-from-prune",
    )
    # One more goes: the chain can no longer say what event 5 was.
    assert _prune(runtime, org_a, 1) == 1
    report = _verify(client, auth, org_a, kept["jws"])
    assert report["valid"] is True
    assert (report["checkpoint"]["matches"], report["checkpoint"]["reason"]) == (None, "pruned")


def test_a_pruned_checkpoint_whose_hash_the_prune_checkpoint_contradicts_is_exposed(
    client, auth, runtime, org_a, org_b
):
    record_events(runtime, org_a.id, 2)
    kept = _kept_checkpoint(client, auth, org_a)
    _rewrite_history(runtime, org_a, seq=2, details={"n": 99})
    assert _prune(runtime, org_a, kept["seq"]) == kept["seq"]
    check = _verify(client, auth, org_a, kept["jws"])["checkpoint"]
    assert (check["matches"], check["reason"]) == (False, "hash-mismatch")


def _checkpoints(runtime: Runtime, org: Org) -> list[AuditCheckpoint]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))


def _head_seq(runtime: Runtime, org: Org) -> int:
    with runtime.session(organisation_id=org.id) as session:
        return session.scalars(select(AuditChainHead.seq)).one()


def test_the_daily_scan_checkpoints_only_heads_that_moved(client, auth, runtime, org_a, org_b):
    assert checkpoint_moved_heads(runtime) == 2
    [first_a], [first_b] = _checkpoints(runtime, org_a), _checkpoints(runtime, org_b)
    assert (first_a.made_by, first_a.seq) == (MadeBy.schedule.value, _head_seq(runtime, org_a))
    # The scan records no event: the head it signed is still the head.
    assert checkpoint_moved_heads(runtime) == 0
    record_events(runtime, org_a.id, 1)
    assert checkpoint_moved_heads(runtime) == 1
    assert [c.seq for c in _checkpoints(runtime, org_a)] == [first_a.seq, first_a.seq + 1]
    assert [c.id for c in _checkpoints(runtime, org_b)] == [first_b.id]
    # A checkpoint asked for over the API covers the head too (its own event moves it after).
    kept = _kept_checkpoint(client, auth, org_b)
    assert kept["seq"] == first_b.seq
    assert checkpoint_moved_heads(runtime) == 1
    assert _checkpoints(runtime, org_b)[-1].seq == kept["seq"] + 1


def test_the_daily_scan_leaves_an_organisation_past_its_return_period_alone(runtime, org_a, org_b):
    with unit_of_work(runtime, organisation_id=None) as session:
        organisation = session.get(Organisation, org_a.id)
        assert organisation is not None
        organisation.status = OrganisationStatus.offboarded
        organisation.offboarded_at = utcnow() - timedelta(days=40)
        organisation.data_return_until = utcnow() - timedelta(days=10)
    assert checkpoint_moved_heads(runtime) == 1
    assert _checkpoints(runtime, org_a) == []
    assert len(_checkpoints(runtime, org_b)) == 1


def test_the_daily_scan_signs_what_the_api_would(runtime, org_a, org_b):
    checkpoint_moved_heads(runtime)
    [scheduled] = _checkpoints(runtime, org_a)
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        requested = issue_checkpoint(session, made_by=MadeBy.request)
        assert (requested.seq, requested.hash) == (scheduled.seq, scheduled.hash)
        assert requested.key_id == scheduled.key_id == runtime.audit_keys.kid
