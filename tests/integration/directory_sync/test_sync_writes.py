"""What a sync writes besides the accounts: the search index (migration 0018) stays exact, and
each change's event is in the organisation's chain, which verifies."""

from __future__ import annotations

from sqlalchemy import select

from facito_admin.accounts.actions import AccountAction
from facito_admin.audit.models import AuditEvent
from facito_admin.audit.verification import verify_organisation_chain
from facito_admin.jobs.models import JobState
from tests.conftest import Org
from tests.factories.accounts import search_index_differences
from tests.factories.directory_sync import SyncHarness
from tests.fakes.graph import FakeGraph, graph_user, object_id


def _chain_is_valid(syncs: SyncHarness, org: Org) -> bool:
    with syncs.runtime.session(organisation_id=org.id) as session:
        verification = verify_organisation_chain(session)
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    return verification.report.valid and seqs == list(range(1, len(seqs) + 1))


def test_syncs_keep_the_search_index_exact_and_the_chain_valid(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org, org_b: Org
):
    graph.add_range(0, 30)
    assert syncs.run(org_a, "full").state is JobState.succeeded
    assert syncs.run(org_b, "full").state is JobState.succeeded
    assert not search_index_differences(syncs.runtime)
    created = syncs.events(org_a, AccountAction.AccountCreate)
    assert len(created) == 30

    graph.update(object_id(1), displayName="Beatrix Kruger", mail="bea@palace.example")
    graph.update(object_id(2), userPrincipalName="renamed2@contoso.example")
    graph.update(object_id(3), department="Finance")
    graph.remove(object_id(4), "deleted")
    graph.add(graph_user(900))
    job = syncs.run(org_a, "delta")
    assert job.state is JobState.succeeded, job.error
    assert not search_index_differences(syncs.runtime)
    by_oid = syncs.by_oid(org_a)
    assert by_oid[object_id(1)].name_key == "beatrix kruger"
    # Each changed account has its event; the other organisation's chain saw none of them.
    changed = {str(by_oid[object_id(n)].id) for n in (1, 2, 3, 4)}
    updates = syncs.events(org_a, AccountAction.AccountUpdate)
    assert {e.target_id for e in updates} == {str(by_oid[object_id(n)].id) for n in (1, 2, 3)}
    assert {e.target_id for e in syncs.events(org_a, "org:account:")} >= changed
    assert not syncs.events(org_b, AccountAction.AccountUpdate)
    assert _chain_is_valid(syncs, org_a)
    assert _chain_is_valid(syncs, org_b)
