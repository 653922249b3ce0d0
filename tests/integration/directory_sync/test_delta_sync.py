"""Delta syncs: only the changes since the stored delta link; removals; duplicates merged."""

from __future__ import annotations

from facito_admin.accounts.actions import AccountAction
from facito_admin.accounts.models import AccountStatus
from facito_admin.jobs.models import JobState
from tests.conftest import Org
from tests.factories.accounts import grant, make_account
from tests.factories.directory_sync import SyncHarness
from tests.fakes.graph import FakeGraph, graph_user, object_id


def _synced(syncs: SyncHarness, graph: FakeGraph, org: Org, count: int) -> None:
    graph.add_range(0, count)
    job = syncs.run(org, "full")
    assert job.state is JobState.succeeded, job.error


def test_a_delta_sync_applies_changes_and_removals(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org, org_b: Org
):
    _synced(syncs, graph, org_a, 10)
    before = syncs.by_oid(org_a)
    grant(syncs.runtime, org_a.id, before[object_id(2)].id, "microsoft-365")
    graph.update(object_id(1), department="Finance", surname="Jansen")
    graph.update(object_id(2), accountEnabled=False)
    graph.remove(object_id(3), "changed")
    graph.remove(object_id(4), "deleted")
    graph.add(graph_user(900))
    requests_before = len(graph.requests)

    job = syncs.run(org_a, "delta")
    assert job.state is JobState.succeeded, job.error
    assert job.result is not None
    assert job.result["mode"] == "delta"
    assert {
        k: v
        for k, v in job.result.items()
        if isinstance(v, int) and v and k not in ("pages", "entries")
    } == {
        "updated": 1,
        "disabled": 2,
        "deleted": 1,
        "created": 1,
    }
    # Only the delta was read: no listing of every user.
    assert graph.paths()[requests_before:] == ["/v1.0/users/delta"]
    after = syncs.by_oid(org_a)
    assert len(after) == 11
    assert (after[object_id(1)].department, after[object_id(1)].family_name) == (
        "Finance",
        "Jansen",
    )
    assert after[object_id(1)].version == before[object_id(1)].version + 1
    assert after[object_id(2)].status is AccountStatus.disabled
    assert after[object_id(3)].status is AccountStatus.disabled  # soft-deleted in Entra
    assert after[object_id(4)].status is AccountStatus.deleted
    assert after[object_id(4)].purge_after is not None
    assert after[object_id(5)].version == before[object_id(5)].version
    assert object_id(900) in after

    disable = next(
        e
        for e in syncs.events(org_a, AccountAction.AccountDisable)
        if e.target_id == str(after[object_id(2)].id)
    )
    assert disable.details == {"ended_entitlements": ["microsoft-365"], "cause": "directory"}
    soft = next(
        e
        for e in syncs.events(org_a, AccountAction.AccountDisable)
        if e.target_id == str(after[object_id(3)].id)
    )
    assert soft.details["cause"] == "directory-soft-deleted"
    (update,) = syncs.events(org_a, AccountAction.AccountUpdate)
    assert update.details == {"fields": ["department", "family_name"], "cause": "directory"}
    assert syncs.accounts(org_b) == []

    # Enabled again in the directory: the products it lost come back.
    graph.update(object_id(2), accountEnabled=True)
    job = syncs.run(org_a, "delta")
    assert job.result is not None
    assert job.result["enabled"] == 1
    (enable,) = syncs.events(org_a, AccountAction.AccountEnable)
    assert enable.details["reinstated_entitlements"] == ["microsoft-365"]
    state = syncs.state(org_a)
    assert state is not None and state.last_delta_sync_at is not None


def test_a_user_changed_twice_in_one_delta_is_merged_the_later_change_winning(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    _synced(syncs, graph, org_a, 3)
    graph.update(object_id(1), partial=True, department="Finance")
    graph.update(object_id(1), partial=True, surname="Bakker")
    graph.update(object_id(1), partial=True, department="Legal")
    job = syncs.run(org_a, "delta")
    assert job.result is not None
    assert (job.result["updated"], job.result["entries"]) == (1, 3)
    account = syncs.by_oid(org_a)[object_id(1)]
    # Partial entries change what they state and nothing else.
    assert (account.department, account.family_name, account.given_name) == (
        "Legal",
        "Bakker",
        "User",
    )


def test_a_user_removed_then_back_in_the_same_delta_ends_as_the_last_entry_says(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    _synced(syncs, graph, org_a, 3)
    graph.remove(object_id(1), "changed")
    graph.add(graph_user(1, department="Returned"))
    graph.update(object_id(2), department="Leaving")
    graph.remove(object_id(2), "deleted")
    job = syncs.run(org_a, "delta")
    assert job.result is not None
    accounts = syncs.by_oid(org_a)
    assert (accounts[object_id(1)].status, accounts[object_id(1)].department) == (
        AccountStatus.active,
        "Returned",
    )
    assert accounts[object_id(2)].status is AccountStatus.deleted


def test_two_users_swapping_upns_across_pages_both_succeed(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    _synced(syncs, graph, org_a, 3)
    graph.page_size = 1
    graph.update(object_id(1), userPrincipalName="user2@contoso.example", mail=None)
    graph.update(object_id(2), userPrincipalName="user1@contoso.example", mail=None)
    job = syncs.run(org_a, "delta")
    assert job.state is JobState.succeeded, job.error
    assert job.result is not None
    assert (job.result["updated"], job.result["conflicts"], job.result["pages"]) == (2, 0, 2)
    accounts = syncs.by_oid(org_a)
    assert accounts[object_id(1)].user_principal_name == "user2@contoso.example"
    assert accounts[object_id(2)].user_principal_name == "user1@contoso.example"


def test_an_expired_delta_link_is_discarded_for_a_full_resync(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    for status in (410, 400):
        graph.reset()
        _synced(syncs, graph, org_a, 5)
        graph.expire_delta_tokens(status=status)
        graph.users.pop(object_id(3))  # a change the expired link can no longer tell
        job = syncs.run(org_a, "delta")
        assert job.state is JobState.succeeded, job.error
        assert job.result is not None
        assert (job.result["mode"], job.result["resynced"]) == ("full", True)
        assert job.result["deleted"] == 1
        assert syncs.by_oid(org_a)[object_id(3)].status is AccountStatus.deleted
        state = syncs.state(org_a)
        assert state is not None and state.delta_link is not None
        assert str(len(graph.log)) in state.delta_link  # a fresh link, not the expired one
        graph.add(graph_user(3))  # back for the next round of the loop
        syncs.run(org_a, "full")


def test_a_delta_sync_without_a_stored_link_lists_everyone(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    graph.add_range(0, 4)
    job = syncs.run(org_a, "delta")
    assert job.result is not None
    assert (job.result["mode"], job.result["created"]) == ("full", 4)
    assert "/v1.0/users" in graph.paths()


def test_a_restored_user_whose_upn_was_taken_meanwhile_is_a_conflict_not_a_failure(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    _synced(syncs, graph, org_a, 2)
    graph.remove(object_id(1), "deleted")
    syncs.run(org_a, "delta")
    make_account(syncs.runtime, org_a.id, "new", user_principal_name="user1@contoso.example")
    # Back in the directory, in an entry that does not repeat its UPN.
    graph.users[object_id(1)] = graph_user(1)
    graph.log.append({"id": object_id(1), "accountEnabled": True})
    job = syncs.run(org_a, "delta")
    assert job.state is JobState.succeeded, job.error
    assert job.result is not None
    assert (job.result["conflicts"], job.result["restored"]) == (1, 0)
    assert syncs.by_oid(org_a)[object_id(1)].status is AccountStatus.deleted
