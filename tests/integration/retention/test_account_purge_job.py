"""The periodic scan enqueues one purge job per organisation with accounts due; the job
purges them for good, with progress, and touches nothing of any other organisation. Legal
holds keep their accounts; the linked data of a purged account goes with it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from facito_admin.accounts.models import Account, AccountStatus
from facito_admin.consents.models import GuardianConsent, PreferenceChange
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.jobs.models import Job, JobState
from facito_admin.retention.account_purge import PURGE_KIND, enqueue_due_purges
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.accounts import make_account, read_account
from tests.factories.jobs import QueueHarness
from tests.factories.retention import (
    add_record,
    certificates,
    holds_of,
    place_hold,
    record_ids,
    release_hold,
    run_now,
)
from tests.factories.webhooks import deliveries, make_endpoint


def _soft_delete(runtime: Runtime, org: Org, account_id: uuid.UUID, *, due: bool) -> None:
    now = utcnow()
    purge_after = now - timedelta(minutes=1) if due else now + timedelta(days=30)
    with unit_of_work(runtime, organisation_id=org.id) as session:
        session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(status=AccountStatus.deleted, deleted_at=now, purge_after=purge_after)
        )


def _purge_jobs(runtime: Runtime, org: Org) -> list[Job]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(Job).where(Job.kind == PURGE_KIND)))


def test_due_accounts_are_purged_by_one_job_per_organisation(
    jobs: QueueHarness, runtime: Runtime, org_a: Org, org_b: Org
):
    due = [make_account(runtime, org_a.id, n).id for n in (1, 2)]
    kept = make_account(runtime, org_a.id, 3).id
    for account_id in due:
        _soft_delete(runtime, org_a, account_id, due=True)
    not_yet = make_account(runtime, org_b.id, 1).id
    _soft_delete(runtime, org_b, not_yet, due=False)

    assert enqueue_due_purges(jobs.runtime) == 1
    # A purge already queued is not queued twice.
    assert enqueue_due_purges(jobs.runtime) == 0
    [job] = _purge_jobs(runtime, org_a)
    assert _purge_jobs(runtime, org_b) == []

    jobs.start()
    finished = jobs.wait_finished(org_a.id, job.id)
    assert finished.state is JobState.succeeded
    assert finished.result["purged"] == 2
    assert finished.progress_done == 2
    assert all(read_account(runtime, org_a.id, a) is None for a in due)
    assert read_account(runtime, org_a.id, kept) is not None
    assert read_account(runtime, org_b.id, not_yet) is not None
    # Nothing due any more: the next scan enqueues nothing.
    assert enqueue_due_purges(jobs.runtime) == 0


def test_a_held_account_is_not_purged_and_a_released_hold_no_longer_keeps_it(
    runtime: Runtime, org_a: Org
):
    held = make_account(runtime, org_a.id, "held").id
    by_category = make_account(runtime, org_a.id, "by-category").id
    free = make_account(runtime, org_a.id, "free").id
    for account_id in (held, by_category, free):
        _soft_delete(runtime, org_a, account_id, due=True)
    account_hold = place_hold(runtime, org_a.id, account_id=held)
    category_hold = place_hold(runtime, org_a.id, account_id=by_category, category="content.files")

    first = run_now(runtime, org_a.id, PURGE_KIND)
    assert first.state is JobState.succeeded, first.error
    assert first.result["purged"] == 1
    assert read_account(runtime, org_a.id, free) is None
    assert read_account(runtime, org_a.id, held) is not None
    assert read_account(runtime, org_a.id, by_category) is not None
    [certificate] = certificates(runtime, org_a.id)
    assert certificate.kind.value == "account_purge"
    assert certificate.kept_by_holds["holds"] == {str(account_hold): 1, str(category_hold): 1}

    release_hold(runtime, org_a.id, account_hold)
    release_hold(runtime, org_a.id, category_hold)
    second = run_now(runtime, org_a.id, PURGE_KIND)
    assert second.result["purged"] == 2
    assert read_account(runtime, org_a.id, held) is None
    # The released holds stay as history, naming the account that is gone.
    assert {h.account_id for h in holds_of(runtime, org_a.id)} == {held, by_category}


def test_an_organisation_wide_hold_keeps_every_account(runtime: Runtime, org_a: Org):
    account = make_account(runtime, org_a.id).id
    _soft_delete(runtime, org_a, account, due=True)
    place_hold(runtime, org_a.id)
    job = run_now(runtime, org_a.id, PURGE_KIND)
    assert job.result["purged"] == 0
    assert read_account(runtime, org_a.id, account) is not None
    assert certificates(runtime, org_a.id) == []


def test_the_linked_data_of_a_purged_account_goes_with_it_and_is_certified(
    runtime: Runtime, org_a: Org
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/p", event_types=["account.purged"])
    account = make_account(runtime, org_a.id, "gone").id
    kept = make_account(runtime, org_a.id, "kept").id
    add_record(runtime, org_a.id, account, category="content.files", occurred_at=utcnow())
    add_record(runtime, org_a.id, account, category="usage.device", occurred_at=utcnow())
    survivor = add_record(runtime, org_a.id, kept, category="usage.device", occurred_at=utcnow())
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        session.add(
            PreferenceChange(
                account_id=account,
                actor_kind="admin",
                actor_id="x",
                actor_display="X",
                source="admin_api",
                changes={"marketing.email": True},
            )
        )
        session.add(
            GuardianConsent(
                account_id=account,
                guardian_name="Parent",
                guardian_contact="parent@example.com",
                relationship="parent",
                verification_method="document",
                verified_at=utcnow(),
                scope=["account"],
                recorded_by_id="x",
                recorded_by_display="X",
            )
        )
    _soft_delete(runtime, org_a, account, due=True)

    job = run_now(runtime, org_a.id, PURGE_KIND)
    assert job.state is JobState.succeeded, job.error
    assert read_account(runtime, org_a.id, account) is None
    assert record_ids(runtime, org_a.id) == {survivor}
    [certificate] = certificates(runtime, org_a.id)
    assert certificate.removed == {
        "accounts": 1,
        "data_records": {"content.files": 1, "usage.device": 1},
        "preference_changes": 1,
        "guardian_consents": 1,
    }
    assert certificate.removed_total == 5
    assert job.result["deletion_certificate_id"] == str(certificate.id)
    [delivery] = deliveries(runtime, org_a.id)
    assert (delivery.event_type, delivery.payload["data"]) == (
        "account.purged",
        {"account_id": str(account)},
    )
