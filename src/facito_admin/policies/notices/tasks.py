"""The fan-out of a publication: one notice job per organisation, each in its own session.

Jobs belong to an organisation, so a publication cannot queue one job for all of them. A
periodic scan finds published versions whose fan-out is unfinished, lists the organisations
still without a notice (across organisations, through the grep-able escape) and queues a
`statement-notice` job in each of them; the job calls notices.notify_organisation_of_statement.
A version counts as announced once every organisation has its notice: a job that failed for
good is queued again by the next scan, and a scan or job that runs twice changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ...db.base import utcnow
from ...db.session import cross_organisation_session, unit_of_work
from ...jobs import JobContext, JobFailed, enqueue_job, job_handler, periodic_job, system_context
from ...jobs.models import Job, JobState
from ...runtime import Runtime
from ...tenants.models import Organisation, OrganisationStatus
from ..effective.events import recheck_residency
from ..models import NoticeKind, OrganisationNotice, PrivacyStatementVersion, StatementStatus
from .service import notify_organisation_of_statement

NOTICE_JOB_KIND = "statement-notice"
SCAN_NAME = "statement-notice-scan"


@job_handler(NOTICE_JOB_KIND)
def send_statement_notice(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Give the job's organisation its notice of one published statement version."""
    statement = session.get(PrivacyStatementVersion, uuid.UUID(str(ctx.params["statement_id"])))
    if statement is None or statement.status is not StatementStatus.published:
        raise JobFailed("the statement version is not published", retry=False)
    notify_organisation_of_statement(
        session, organisation_id=ctx.organisation_id, statement=statement, ctx=ctx.request
    )
    organisation = session.get(Organisation, ctx.organisation_id)
    if organisation is not None:
        # A new statement version is a policy change too: regions it forbids are reported.
        recheck_residency(
            session,
            ctx.request,
            organisation=organisation,
            cause=f"privacy statement {statement.version_label}",
        )
    return {"statement_id": str(statement.id), "version_label": statement.version_label}


def _versions_to_announce(runtime: Runtime) -> list[uuid.UUID]:
    with runtime.session() as session:
        return list(
            session.scalars(
                select(PrivacyStatementVersion.id)
                .where(
                    PrivacyStatementVersion.status == StatementStatus.published,
                    PrivacyStatementVersion.notices_sent_at.is_(None),
                )
                .order_by(PrivacyStatementVersion.effective_from)
            )
        )


def organisations_without_notice(runtime: Runtime, statement_id: uuid.UUID) -> list[uuid.UUID]:
    """Organisations (not offboarded) that have no notice of the version yet."""
    # Suspended organisations are told too: they may come back, and the change concerns them.
    with cross_organisation_session(
        runtime, reason="find organisations not yet notified of a published statement"
    ) as session:
        notified = exists().where(
            OrganisationNotice.organisation_id == Organisation.id,
            OrganisationNotice.kind == NoticeKind.statement_published,
            OrganisationNotice.statement_id == statement_id,
        )
        return list(
            session.scalars(
                select(Organisation.id)
                .where(Organisation.status != OrganisationStatus.offboarded, ~notified)
                .order_by(Organisation.id)
            )
        )


def _job_under_way(session: Session, statement_id: uuid.UUID) -> bool:
    params = session.scalars(
        select(Job.params).where(
            Job.kind == NOTICE_JOB_KIND, Job.state.in_([JobState.queued, JobState.running])
        )
    )
    return any(str((p or {}).get("statement_id")) == str(statement_id) for p in params)


def enqueue_statement_notices(runtime: Runtime) -> int:
    """Queue the notice jobs still needed; mark versions whose organisations all have one."""
    enqueued = 0
    for statement_id in _versions_to_announce(runtime):
        missing = organisations_without_notice(runtime, statement_id)
        for organisation_id in missing:
            with unit_of_work(runtime, organisation_id=organisation_id) as session:
                if _job_under_way(session, statement_id):
                    continue
                enqueue_job(
                    session,
                    system_context(SCAN_NAME),
                    kind=NOTICE_JOB_KIND,
                    params={"statement_id": str(statement_id)},
                    max_attempts=5,
                )
                enqueued += 1
        if not missing:
            with unit_of_work(runtime, organisation_id=None) as session:
                statement = session.get(PrivacyStatementVersion, statement_id)
                if statement is not None:
                    statement.notices_sent_at = utcnow()
    return enqueued


@periodic_job(SCAN_NAME, minute="*")
def scan_for_statement_notices(runtime: Runtime) -> None:
    """Every minute: queue the notices of newly published statement versions."""
    enqueue_statement_notices(runtime)
