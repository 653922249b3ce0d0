"""A directory sync of an organisation whose policy requires its verified domains skips (and
counts) the users outside them, applies the rest, and fails nothing; others are unaffected."""

from __future__ import annotations

from facito_admin.jobs.models import JobState
from tests.conftest import Org
from tests.factories.directory_sync import SyncHarness
from tests.factories.domains import add_domain, require_verified_domains
from tests.fakes.graph import DOMAIN, FakeGraph, graph_user, object_id


def _outsider(n: int, **props) -> dict:
    return graph_user(
        n, userPrincipalName=f"user{n}@fabrikam.example", mail=f"user{n}@fabrikam.example", **props
    )


def test_a_sync_skips_and_counts_users_outside_the_required_verified_domains(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org, org_b: Org
):
    add_domain(syncs.runtime, org_a, DOMAIN)
    require_verified_domains(syncs.runtime, org_a)
    graph.add_range(0, 5)
    graph.add(_outsider(100), _outsider(101))
    # An address in the verified domain but an e-mail outside it is outside too.
    graph.add(graph_user(102, mail="user102@fabrikam.example"))
    job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded, job.error
    assert job.result is not None
    assert (job.result["created"], job.result["outside_verified_domains"]) == (5, 3)
    assert set(syncs.by_oid(org_a)) == {object_id(n) for n in range(5)}
    # A delta that moves a synced user out of the verified domains leaves the account as it was.
    graph.update(object_id(1), userPrincipalName="user1@fabrikam.example")
    graph.update(object_id(2), department="Finance")
    delta = syncs.run(org_a, "delta")
    assert delta.state is JobState.succeeded, delta.error
    assert delta.result is not None
    assert (delta.result["updated"], delta.result["outside_verified_domains"]) == (1, 1)
    accounts = syncs.by_oid(org_a)
    assert accounts[object_id(1)].user_principal_name == f"user1@{DOMAIN}"
    assert accounts[object_id(2)].department == "Finance"
    # The run is reported on the organisation's chain with the count.
    [*_, run] = syncs.events(org_a, "org:directory-sync")
    assert run.details["outside_verified_domains"] == 1


def test_without_the_policy_a_sync_takes_every_domain(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org, org_b: Org
):
    add_domain(syncs.runtime, org_a, DOMAIN)
    require_verified_domains(syncs.runtime, org_b)  # org B's policy is not org A's
    graph.add_range(0, 2)
    graph.add(_outsider(100))
    job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded, job.error
    assert job.result is not None
    assert (job.result["created"], job.result["outside_verified_domains"]) == (3, 0)
