"""A statement version that forbids an organisation's regions is reported to that
organisation when its notice job runs (a policy change, like a contract)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from facito_admin.auth.context import SYSTEM_PRINCIPAL, RequestContext
from facito_admin.common.conditional import ANY
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.jobs.models import Job, JobState
from facito_admin.organisations import service as organisations
from facito_admin.policies.actions import PolicyAction
from facito_admin.policies.notices.tasks import NOTICE_JOB_KIND, enqueue_statement_notices
from facito_admin.policies.parameters import STATEMENT_2019_VALUES
from facito_admin.policies.statements.drafts import create_draft, publish_statement
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Organisation
from tests.api.organisations.helpers import audit_trail
from tests.conftest import Org
from tests.factories.jobs import QueueHarness

CTX = RequestContext(principal=SYSTEM_PRINCIPAL, request_id="test-residency")


def test_an_eea_only_statement_reports_the_organisation_storing_outside_the_eea(
    jobs: QueueHarness, runtime: Runtime, org_a: Org, org_b: Org
):
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        organisation = session.get(Organisation, org_a.id)
        assert organisation is not None
        organisations.update_organisation(
            session,
            CTX,
            organisation_id=org_a.id,
            if_match=ANY,
            changes={"backup_region": "azure-us"},
        )
    effective_from = utcnow() + timedelta(days=1)
    with unit_of_work(runtime, organisation_id=None) as session:
        draft = create_draft(
            session,
            CTX,
            version_label="2026-eea",
            last_updated=utcnow().date(),
            effective_from=effective_from,
            parameters={**STATEMENT_2019_VALUES, "residency.eea_only": True},
            changes=[{"summary": "EEA only.", "reason": "Sovereignty.", "material": False}],
            bodies={},
        )
        publish_statement(session, CTX, statement_id=draft.id, if_match=ANY)

    assert enqueue_statement_notices(jobs.runtime) == 2
    jobs.start()
    for org in (org_a, org_b):
        with runtime.session(organisation_id=org.id) as session:
            [job] = session.scalars(select(Job).where(Job.kind == NOTICE_JOB_KIND)).all()
        assert jobs.wait_finished(org.id, job.id).state is JobState.succeeded

    reported = [
        e for e in audit_trail(runtime, org_a.id) if e["action"] == PolicyAction.ResidencyInvalid
    ]
    assert len(reported) == 1
    assert reported[0]["details"]["status"] == "becomes_invalid"
    assert reported[0]["details"]["cause"] == "privacy statement 2026-eea"
    assert reported[0]["details"]["problems"][0]["region"] == "azure-us"
    actions_b = [e["action"] for e in audit_trail(runtime, org_b.id)]
    assert PolicyAction.ResidencyInvalid not in actions_b
