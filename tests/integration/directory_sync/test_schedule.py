"""The schedule: every few minutes, a delta sync of each federation whose interval has passed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.directory_sync.actions import DirectorySyncAction
from facito_admin.directory_sync.service import enqueue_due_syncs, update_sync_schedule
from facito_admin.jobs.models import Job, JobState
from facito_admin.jobs.registry import periodic_jobs
from tests.conftest import Org
from tests.factories.audit import admin_ctx
from tests.factories.directory_sync import SyncHarness, federation_of


def _schedule(syncs: SyncHarness, org: Org, **changes: object) -> None:
    with unit_of_work(syncs.runtime, organisation_id=org.id) as session:
        update_sync_schedule(
            session,
            admin_ctx(org.id),
            federation_id=federation_of(syncs.runtime, org),
            changes=changes,
        )


def _finish(syncs: SyncHarness, org: Org) -> None:
    with unit_of_work(syncs.runtime, organisation_id=org.id) as session:
        session.execute(
            update(Job)
            .values(state=JobState.succeeded, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def test_the_schedule_is_a_periodic_job_of_every_consumer():
    schedules = {job.name: job.schedule for job in periodic_jobs()}
    assert schedules["directory-sync-schedule"]["minute"] == "*/5"


def test_due_federations_get_one_delta_sync_each_and_no_more(
    syncs: SyncHarness, org_a: Org, org_b: Org
):
    _schedule(syncs, org_a, enabled=True, interval_minutes=30)
    _schedule(syncs, org_b, enabled=False)

    started = enqueue_due_syncs(syncs.runtime)
    assert len(started) == 1
    job = syncs.jobs.job(org_a.id, started[0])
    assert (job.kind, job.params["mode"], job.state) == ("directory-sync", "delta", "queued")
    assert job.created_by == "facito-admin job directory-sync-schedule"
    start = syncs.events(org_a, DirectorySyncAction.DirectorySyncStart)[-1]
    assert start.details == {"job_id": str(job.id), "mode": "delta", "scheduled": True}
    assert syncs.events(org_b, DirectorySyncAction.DirectorySyncStart) == []

    # Not due again before its interval, and never while its sync is queued or running.
    assert enqueue_due_syncs(syncs.runtime) == []
    later = utcnow() + timedelta(minutes=31)
    assert enqueue_due_syncs(syncs.runtime, now=later) == []
    _finish(syncs, org_a)
    assert enqueue_due_syncs(syncs.runtime, now=utcnow() + timedelta(minutes=29)) == []
    assert len(enqueue_due_syncs(syncs.runtime, now=later)) == 1


def test_federations_that_never_synced_or_are_not_active_are_not_scheduled(
    syncs: SyncHarness, org_a: Org, org_b: Org
):
    assert enqueue_due_syncs(syncs.runtime) == []
    _schedule(syncs, org_a, enabled=True)
    from facito_admin.tenants.models import Federation, FederationStatus

    with unit_of_work(syncs.runtime, organisation_id=None) as session:
        session.execute(
            update(Federation)
            .where(Federation.organisation_id == org_a.id)
            .values(status=FederationStatus.disabled)
            .execution_options(synchronize_session=False)
        )
    assert enqueue_due_syncs(syncs.runtime) == []
