"""Full syncs: every directory user becomes an account exactly once; leavers are removed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Engine

from facito_admin.accounts.actions import AccountAction
from facito_admin.accounts.models import AccountSource, AccountStatus
from facito_admin.audit.verification import verify_organisation_chain
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.directory_sync.actions import DirectorySyncAction
from facito_admin.directory_sync.models import DirectorySyncSeen
from facito_admin.jobs.models import Job, JobState
from tests.conftest import Org
from tests.factories.accounts import birth_date_for_age, make_account
from tests.factories.directory_sync import SyncHarness
from tests.fakes.graph import FakeGraph, graph_user, object_id

COUNTS = {
    "created": 0,
    "updated": 0,
    "disabled": 0,
    "enabled": 0,
    "deleted": 0,
    "restored": 0,
    "unchanged": 0,
    "skipped": 0,
    "conflicts": 0,
    "minors_held": 0,
    "outside_verified_domains": 0,
}


def test_a_full_sync_creates_an_account_per_directory_user(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org, org_b: Org
):
    graph.add_range(0, 250)
    graph.page_size = 100
    job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded, job.error
    assert job.attempts == 1
    assert job.result == COUNTS | {
        "mode": "full",
        "resynced": False,
        "pages": 3,
        "entries": 250,
        "created": 250,
        "resumed_at_pages": [],
    }
    assert (job.progress_done, job.progress_total) == (250, None)
    accounts = syncs.by_oid(org_a)
    assert len(accounts) == 250
    seven = accounts[object_id(7)]
    assert seven.user_principal_name == "user7@contoso.example"
    assert seven.email == "user7@contoso.example"
    assert (seven.display_name, seven.given_name, seven.family_name) == ("User 7", "User", "7")
    assert (seven.employee_number, seven.department) == ("E7", "Sales")
    assert (seven.source, seven.status) == (AccountSource.graph, AccountStatus.active)
    assert syncs.accounts(org_b) == []

    # Audit: one event per account and one for the run, by the job, with no personal values.
    creates = syncs.events(org_a, AccountAction.AccountCreate)
    assert len(creates) == 250
    assert {e.target_id for e in creates} == {str(a.id) for a in accounts.values()}
    assert creates[0].actor_display == "facito-admin job directory-sync"
    assert creates[0].request_id == f"job:{job.id}"
    assert creates[0].details == {
        "source": "graph",
        "status": "active",
        "cause": "directory",
        "fields": [
            "department",
            "display_name",
            "email",
            "employee_number",
            "entra_oid",
            "family_name",
            "given_name",
            "user_principal_name",
        ],
    }
    assert "contoso" not in str([e.details for e in syncs.events(org_a)])
    (run,) = syncs.events(org_a, DirectorySyncAction.DirectorySyncRun)
    assert run.details == job.result | {"job_id": str(job.id)}
    assert syncs.events(org_b, "org:account") == []

    # The run left a delta link for the next (delta) sync.
    state = syncs.state(org_a)
    assert state is not None
    assert state.delta_link is not None and state.last_full_sync_at is not None
    assert state.last_result == job.result


@contextmanager
def writes_to(*tables: str) -> Iterator[list[tuple[str, bool]]]:
    """The statements that write ``tables`` on any engine while the block runs, each with
    whether it was an executemany."""
    written: list[tuple[str, bool]] = []
    verbs = tuple(
        " ".join((verb, table))
        for table in tables
        for verb in ("UPDATE", "INSERT INTO", "DELETE FROM")
    )

    def note(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        if statement.startswith(verbs):
            written.append((statement, many))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield written
    finally:
        event.remove(Engine, "before_cursor_execute", note)


@contextmanager
def account_writes() -> Iterator[list[str]]:
    """The statements that write accounts, on any engine, while the block runs."""
    with writes_to("accounts") as written:
        statements: list[str] = []
        yield statements
    statements.extend(statement for statement, _many in written)


def seen_rows(syncs: SyncHarness, org: Org) -> int:
    with syncs.runtime.session(organisation_id=org.id) as session:
        return len(session.scalars(select(DirectorySyncSeen)).all())


def test_a_second_full_sync_changes_nothing(syncs: SyncHarness, graph: FakeGraph, org_a: Org):
    graph.add_range(0, 120)
    graph.page_size = 50
    syncs.run(org_a, "full")
    before = {a.id: (a.version, a.updated_at) for a in syncs.accounts(org_a)}
    events = len(syncs.events(org_a))

    with account_writes() as written:
        job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded, job.error
    # Not one account row is written: what the listing found is kept per page, not per account.
    assert written == []
    assert seen_rows(syncs, org_a) == 0
    assert job.result is not None
    assert (job.result["unchanged"], job.result["created"], job.result["updated"]) == (120, 0, 0)
    assert {a.id: (a.version, a.updated_at) for a in syncs.accounts(org_a)} == before
    # Only the start and the run were recorded.
    assert [e.action for e in syncs.events(org_a)[events:]] == [
        DirectorySyncAction.DirectorySyncStart,
        DirectorySyncAction.DirectorySyncRun,
    ]


@pytest.mark.postgres_only
def test_on_postgresql_each_page_inserts_its_accounts_and_their_events_in_one_statement_each(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org, org_b: Org
):
    graph.add_range(0, 120)
    graph.page_size = 60
    with writes_to("accounts", "audit_events") as written:
        job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded, job.error
    inserts = [(s.split(" (")[0], many) for s, many in written if s.startswith("INSERT")]
    # Two pages: each writes its 60 accounts and their 60 events as one statement (db/bulk.py),
    # not one per row; the run's own events are sealed after it, by the sealer.
    assert inserts.count(("INSERT INTO accounts", False)) == 2
    assert inserts.count(("INSERT INTO audit_events", False)) >= 2
    assert not [statement for statement, many in inserts if many]
    events = syncs.events(org_a)  # sealed first: the chain then holds every event
    assert len([e for e in events if e.action == AccountAction.AccountCreate]) == 120
    with syncs.runtime.session(organisation_id=org_a.id) as session:
        report = verify_organisation_chain(session)
    assert report.valid and report.head.seq == len(events)
    assert syncs.accounts(org_b) == [] and syncs.events(org_b, "org:account") == []


def _manual_analyses_of_accounts(syncs: SyncHarness) -> int:
    with syncs.runtime.database.engine.connect() as connection:
        return connection.execute(
            text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'accounts'")
        ).scalar_one()


@pytest.mark.postgres_only
def test_on_postgresql_a_sync_that_adds_many_accounts_refreshes_their_statistics(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    # The application role may not ANALYZE; it calls migration 0022's function, which may.
    before = _manual_analyses_of_accounts(syncs)
    graph.add_range(0, 900)
    graph.page_size = 300  # pages 2 and 3 follow 300 and 600 new accounts (STATISTICS_AFTER)
    job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded, job.error
    assert _manual_analyses_of_accounts(syncs) == before + 1


def test_an_account_created_by_hand_is_adopted_by_upn_not_duplicated(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    manual = make_account(
        syncs.runtime,
        org_a.id,
        "x",
        user_principal_name="USER7@Contoso.Example",
        email="seven@elsewhere.example",
        department="Legal",
    )
    graph.add_range(5, 10)
    job = syncs.run(org_a, "full")
    assert job.result is not None
    assert (job.result["created"], job.result["updated"]) == (4, 1)
    accounts = syncs.accounts(org_a)
    assert len(accounts) == 5
    adopted = syncs.by_oid(org_a)[object_id(7)]
    assert adopted.id == manual.id
    assert adopted.source is AccountSource.graph  # the directory governs it from now on
    assert (adopted.user_principal_name, adopted.department) == ("user7@contoso.example", "Sales")
    assert adopted.version == manual.version + 1
    (update,) = syncs.events(org_a, AccountAction.AccountUpdate)
    assert update.target_id == str(manual.id)
    assert update.details["fields"] == [
        "department",
        "display_name",
        "email",
        "employee_number",
        "entra_oid",
        "family_name",
        "source",
        "user_principal_name",
    ]


def test_a_full_sync_soft_deletes_the_accounts_no_longer_in_the_directory(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    graph.add_range(0, 6)
    syncs.run(org_a, "full")
    manual = make_account(syncs.runtime, org_a.id, "manual")
    for n in (1, 4):
        graph.users.pop(object_id(n))

    job = syncs.run(org_a, "full")
    assert job.result is not None
    assert (job.result["deleted"], job.result["unchanged"]) == (2, 4)
    accounts = syncs.by_oid(org_a)
    for n in (1, 4):
        gone = accounts[object_id(n)]
        assert gone.status is AccountStatus.deleted
        assert gone.deleted_from_status is AccountStatus.active
        assert gone.purge_after is not None
        assert gone.purge_after - utcnow() > timedelta(days=29)
    assert {a.status for n, a in accounts.items() if n not in (object_id(1), object_id(4))} == {
        AccountStatus.active
    }
    # Accounts made by hand are not the directory's to remove.
    assert {a.id: a.status for a in syncs.accounts(org_a)}[manual.id] is AccountStatus.active
    deletes = syncs.events(org_a, AccountAction.AccountDelete)
    assert len(deletes) == 2
    assert deletes[0].details["cause"] == "directory-missing"

    # Back in the directory inside the grace period: restored, not duplicated.
    graph.add(graph_user(1))
    job = syncs.run(org_a, "full")
    assert job.result is not None
    assert job.result["restored"] == 1
    back = syncs.by_oid(org_a)[object_id(1)]
    assert (back.status, back.deleted_at, back.purge_after) == (AccountStatus.active, None, None)


def test_a_full_sync_resumed_after_a_failed_attempt_removes_exactly_the_users_gone(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org, org_b: Org
):
    graph.add_range(0, 100)
    graph.page_size = 10
    syncs.run(org_a, "full")
    syncs.run(org_b, "full")
    for n in (3, 85):
        graph.users.pop(object_id(n))
    graph.page_delay = 0.1
    job_id = syncs.start(org_a, "full")
    syncs.jobs.wait_for(org_a.id, job_id, lambda j: (j.checkpoint or {}).get("pages", 0) >= 2)
    for _ in range(4):  # more than the client retries: the attempt fails, the next resumes
        graph.fail(500, "serviceNotAvailable")
    graph.page_delay = 0
    job = syncs.jobs.wait_for(org_a.id, job_id, lambda j: j.finished_at is not None, 60)

    assert job.state is JobState.succeeded, job.error
    assert job.result is not None
    assert job.attempts == 2 and len(job.result["resumed_at_pages"]) == 1
    # The pages of the failed attempt still count as found: only the two users gone go.
    assert (job.result["deleted"], job.result["unchanged"]) == (2, 98)
    deleted = {n for n, a in syncs.by_oid(org_a).items() if a.status is AccountStatus.deleted}
    assert deleted == {object_id(3), object_id(85)}
    assert seen_rows(syncs, org_a) == 0
    # The other organisation, synced from the same directory before, is untouched.
    assert {a.status for a in syncs.accounts(org_b)} == {AccountStatus.active}


def test_a_full_sync_resumed_from_a_checkpoint_of_marked_accounts_lists_again(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    """A run checkpointed before its listing was kept per page (migration 0019) starts the
    listing over rather than take every account for missing."""
    graph.add_range(0, 30)
    graph.page_size = 10
    syncs.run(org_a, "full")
    syncs.jobs.stop()
    job_id = syncs.start(org_a, "full")
    old = {"mode": "full", "phase": "cleanup", "link": None, "pages": 3, "entries": 30}
    with unit_of_work(syncs.runtime, organisation_id=org_a.id) as session:
        session.execute(update(Job).where(Job.id == job_id).values(checkpoint=old))
    syncs.jobs.start()
    job = syncs.jobs.wait_for(org_a.id, job_id, lambda j: j.finished_at is not None, 60)

    assert job.state is JobState.succeeded, job.error
    assert job.result is not None
    assert job.result["deleted"] == 0
    assert {a.status for a in syncs.accounts(org_a)} == {AccountStatus.active}


def test_an_empty_directory_listing_deletes_nothing(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    graph.add_range(0, 3)
    syncs.run(org_a, "full")
    graph.users.clear()
    job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded
    assert job.result is not None
    assert job.result["deleted"] == 0
    assert {a.status for a in syncs.accounts(org_a)} == {AccountStatus.active}


def test_a_disabled_directory_user_gets_a_disabled_account(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    graph.add(graph_user(1, accountEnabled=False), graph_user(2, mail=None, department=None))
    job = syncs.run(org_a, "full")
    assert job.result is not None
    assert job.result["created"] == 2
    accounts = syncs.by_oid(org_a)
    assert accounts[object_id(1)].status is AccountStatus.disabled
    assert (accounts[object_id(2)].email, accounts[object_id(2)].department) == (None, None)


def test_a_minors_account_is_not_activated_by_the_directory(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    minor = make_account(
        syncs.runtime,
        org_a.id,
        3,
        user_principal_name="user3@contoso.example",
        birth_date=birth_date_for_age(12),
        status=AccountStatus.disabled,
    )
    graph.add(graph_user(3))
    job = syncs.run(org_a, "full")
    assert job.result is not None
    assert (job.result["minors_held"], job.result["enabled"]) == (1, 0)
    adopted = syncs.by_oid(org_a)[object_id(3)]
    assert adopted.id == minor.id
    assert adopted.status is AccountStatus.disabled


def test_a_user_whose_email_another_account_keeps_is_a_conflict_not_a_duplicate(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    make_account(syncs.runtime, org_a.id, "other", email="user2@contoso.example")
    graph.add_range(0, 4)
    job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded
    assert job.result is not None
    assert (job.result["created"], job.result["conflicts"]) == (3, 1)
    assert object_id(2) not in syncs.by_oid(org_a)
