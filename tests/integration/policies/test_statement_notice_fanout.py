"""Publishing a statement version notifies every organisation through one job per
organisation; the fan-out is idempotent and skips offboarded and later organisations."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from facito_admin.auth.context import SYSTEM_PRINCIPAL, RequestContext
from facito_admin.common.conditional import ANY
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.jobs.models import Job, JobState
from facito_admin.jobs.registry import periodic_jobs
from facito_admin.policies.models import OrganisationNotice, PrivacyStatementVersion
from facito_admin.policies.notices.tasks import NOTICE_JOB_KIND, enqueue_statement_notices
from facito_admin.policies.parameters import STATEMENT_2019_VALUES
from facito_admin.policies.statements.drafts import create_draft, publish_statement
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Organisation, OrganisationStatus
from tests.conftest import Org, make_organisation
from tests.factories.jobs import QueueHarness

DPO_CTX = RequestContext(principal=SYSTEM_PRINCIPAL, request_id="test-dpo")


def _publish(runtime: Runtime, label: str, *, days: int = 1) -> uuid.UUID:
    with unit_of_work(runtime, organisation_id=None) as session:
        draft = create_draft(
            session,
            DPO_CTX,
            version_label=label,
            last_updated=utcnow().date(),
            effective_from=utcnow() + timedelta(days=days),
            parameters=dict(STATEMENT_2019_VALUES),
            changes=[{"summary": "Wording.", "reason": "Clarity.", "material": False}],
            bodies={},
        )
        publish_statement(session, DPO_CTX, statement_id=draft.id, if_match=ANY)
        return draft.id


def _notices(runtime: Runtime, org: Org) -> list[OrganisationNotice]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(OrganisationNotice)))


def _jobs(runtime: Runtime, org: Org) -> list[Job]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(Job).where(Job.kind == NOTICE_JOB_KIND)))


def _sent_at(runtime: Runtime, statement_id: uuid.UUID) -> object:
    with runtime.session() as session:
        statement = session.get(PrivacyStatementVersion, statement_id)
        assert statement is not None
        return statement.notices_sent_at


def test_every_organisation_gets_one_notice_through_its_own_job(
    jobs: QueueHarness, runtime: Runtime, org_a: Org, org_b: Org
):
    gone = make_organisation(runtime, "org-gone", None)
    with unit_of_work(runtime, organisation_id=None) as session:
        row = session.get(Organisation, gone.id)
        assert row is not None
        row.status = OrganisationStatus.offboarded
    statement_id = _publish(runtime, "2026-fanout")

    assert enqueue_statement_notices(jobs.runtime) == 2
    # Jobs already queued are not queued again.
    assert enqueue_statement_notices(jobs.runtime) == 0
    assert _jobs(runtime, gone) == []
    assert _sent_at(runtime, statement_id) is None

    jobs.start()
    for org in (org_a, org_b):
        [job] = _jobs(runtime, org)
        finished = jobs.wait_finished(org.id, job.id)
        assert finished.state is JobState.succeeded, finished.error
        [notice] = _notices(runtime, org)
        assert notice.statement_id == statement_id
        assert notice.organisation_id == org.id

    # Everyone notified: the version is marked, and nothing more is queued.
    assert enqueue_statement_notices(jobs.runtime) == 0
    assert _sent_at(runtime, statement_id) is not None
    # An organisation onboarded later gets no notice of past versions.
    later = make_organisation(runtime, "org-later", None)
    assert enqueue_statement_notices(jobs.runtime) == 0
    assert _notices(runtime, later) == []


def test_a_notice_job_that_failed_for_good_is_queued_again(
    jobs: QueueHarness, runtime: Runtime, org_a: Org
):
    statement_id = _publish(runtime, "2026-retry")
    assert enqueue_statement_notices(jobs.runtime) == 1
    [job] = _jobs(runtime, org_a)
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        row = session.get(Job, (org_a.id, job.id))
        assert row is not None
        row.state = JobState.failed
        row.finished_at = utcnow()
    assert enqueue_statement_notices(jobs.runtime) == 1
    assert _sent_at(runtime, statement_id) is None


def test_the_scan_runs_every_minute_in_the_consumers():
    [scan] = [job for job in periodic_jobs() if job.name == "statement-notice-scan"]
    assert scan.schedule["minute"] == "*"
