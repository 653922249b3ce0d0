"""Background work of accounts: the hard purge of accounts whose grace period has passed.

A periodic scan finds the organisations with accounts due (across organisations, through the
one grep-able escape) and enqueues one `account-purge` job per organisation, unless one is
already queued or running; the job purges in batches, each committed with its progress, so the
organisation can follow it at GET …/jobs/{id}.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.base import utcnow
from ..db.session import cross_organisation_session, unit_of_work
from ..jobs import JobContext, enqueue_job, job_handler, periodic_job, system_context
from ..jobs.models import Job, JobState
from ..runtime import Runtime
from .lifecycle import PURGE_BATCH, purge_due_accounts
from .models import Account, AccountStatus

PURGE_KIND = "account-purge"


@job_handler(PURGE_KIND)
def purge_accounts(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Purge every account of the organisation past its grace period, batch by batch."""
    purged = int((ctx.checkpoint or {}).get("purged", 0))
    while True:
        ctx.raise_if_cancelled()
        count = purge_due_accounts(session, ctx.request, now=utcnow(), limit=PURGE_BATCH)
        purged += count
        ctx.commit_step(checkpoint={"purged": purged}, done=purged)
        if count < PURGE_BATCH:
            return {"purged": purged}


def organisations_with_accounts_due(runtime: Runtime) -> list[Any]:
    """Ids of the organisations that have accounts past their grace period now."""
    with cross_organisation_session(
        runtime, reason="find organisations with deleted accounts past their grace period"
    ) as session:
        return list(
            session.scalars(
                select(Account.organisation_id)
                .where(Account.status == AccountStatus.deleted, Account.purge_after <= utcnow())
                .distinct()
            )
        )


def enqueue_due_purges(runtime: Runtime) -> int:
    """One purge job per organisation with accounts due and no purge already under way."""
    enqueued = 0
    for organisation_id in organisations_with_accounts_due(runtime):
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            under_way = session.scalar(
                select(Job.id)
                .where(Job.kind == PURGE_KIND, Job.state.in_([JobState.queued, JobState.running]))
                .limit(1)
            )
            if under_way is not None:
                continue
            enqueue_job(session, system_context("account-purge-scan"), kind=PURGE_KIND)
            enqueued += 1
    return enqueued


@periodic_job("account-purge-scan", minute="*/15")
def scan_for_due_purges(runtime: Runtime) -> None:
    """Every quarter hour: enqueue the purges that are due."""
    enqueue_due_purges(runtime)
