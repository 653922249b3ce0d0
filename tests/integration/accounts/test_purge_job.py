"""The periodic scan enqueues one purge job per organisation with accounts due; the job
purges them for good, with progress, and touches nothing of any other organisation."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from facito_admin.accounts.models import Account, AccountStatus
from facito_admin.accounts.tasks import PURGE_KIND, enqueue_due_purges
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.jobs.models import Job, JobState
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.accounts import make_account, read_account
from tests.factories.jobs import QueueHarness


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
    assert finished.result == {"purged": 2}
    assert finished.progress_done == 2
    assert all(read_account(runtime, org_a.id, a) is None for a in due)
    assert read_account(runtime, org_a.id, kept) is not None
    assert read_account(runtime, org_b.id, not_yet) is not None
    # Nothing due any more: the next scan enqueues nothing.
    assert enqueue_due_purges(jobs.runtime) == 0
