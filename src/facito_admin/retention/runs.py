"""Retention runs: purge the linked data whose retention ended and that no hold keeps.

A run works at one instant (``as_of``, kept in its checkpoint): per category it deletes the
purgeable records set-based, a batch per step, each step committed with the counts so far, so
a killed worker's successor resumes where the last commit left off and counts nothing twice.
At the end it writes one deletion certificate, its audit event and a `retention.purged`
webhook, in the step that returns the result. The preview counts with the same selection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..db.base import utcnow
from ..db.session import cross_organisation_session
from ..errors import Conflict
from ..jobs import (
    JobContext,
    enqueue_job,
    enqueue_once_per_organisation,
    job_handler,
    job_under_way,
    periodic_job,
)
from ..jobs.models import Job
from ..runtime import Runtime
from ..user_data.models import DataRecord
from ..webhooks.events import WebhookEventType, publish_event
from .actions import RetentionAction
from .certificates import write_certificate
from .models import DeletionKind
from .selection import due_counts, load_schedule, organisation_holds, purge_batch

RUN_KIND = "retention-run"
SCAN_NAME = "retention-scan"
# Rows per step: large enough that a million-row purge takes few round trips, small enough
# that a step's transaction (and on SQLite the write lock) stays short.
RUN_BATCH = 5000


class RetentionRunInProgress(Conflict):
    code, title = "retention-run-in-progress", "A retention run is queued or running"


def start_retention_run(session: Session, ctx: RequestContext) -> Job:
    """Enqueue a retention run of the organisation now; 409 while one is queued or running."""
    running = job_under_way(session, RUN_KIND)
    if running is not None:
        raise RetentionRunInProgress(
            "a retention run is queued or running; follow it", extra={"job_id": str(running.id)}
        )
    job = enqueue_job(session, ctx, kind=RUN_KIND)
    record_event(
        session,
        ctx,
        action=RetentionAction.RetentionRunStart,
        target_type="job",
        target_id=job.id,
        details={"job_id": str(job.id)},
    )
    return job


def preview_retention(session: Session, *, until: datetime) -> dict[str, Any]:
    """What a run at ``until`` would purge per category, and what legal holds would keep."""
    policy = load_schedule(session, at=until)
    counts = due_counts(session, policy.schedule.cutoffs(until))
    return {
        "until": until,
        "statement_version_label": policy.statement_version_label,
        "contract_reference": policy.contract_reference,
        "removable": counts.removable,
        "removable_total": sum(counts.removable.values()),
        "kept_by_holds": counts.kept_by_holds(),
        "basis": policy.schedule.basis(),
    }


@job_handler(RUN_KIND)
def run_retention(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Purge what expired by the run's instant and is not held, batch by batch; certify it."""
    checkpoint = ctx.checkpoint or {}
    as_of = datetime.fromisoformat(checkpoint["as_of"]) if checkpoint else utcnow()
    removed: dict[str, int] = dict(checkpoint.get("removed", {}))
    batch = int(ctx.params.get("batch_size", RUN_BATCH))
    policy = load_schedule(session, at=as_of)
    cutoffs = policy.schedule.cutoffs(as_of)
    total = checkpoint.get("total")
    if total is None:
        total = sum(due_counts(session, cutoffs).removable.values())
    # An organisation-wide hold keeps everything; the end still reports what it kept.
    if not organisation_holds(session):
        for cutoff in cutoffs:
            while True:
                ctx.raise_if_cancelled()
                count = purge_batch(session, cutoff, limit=batch)
                if count:
                    removed[cutoff.category] = removed.get(cutoff.category, 0) + count
                    done = sum(removed.values())
                    ctx.commit_step(
                        checkpoint={"as_of": as_of.isoformat(), "removed": removed, "total": total},
                        done=done,
                        total=max(total, done),
                    )
                if count < batch:
                    break
    kept = due_counts(session, cutoffs).kept_by_holds()
    removed_total = sum(removed.values())
    result: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "removed": dict(sorted(removed.items())),
        "removed_total": removed_total,
        "kept_by_holds": kept["total"],
        "deletion_certificate_id": None,
    }
    # Nothing removed, nothing to certify: an hourly run under a standing hold stays quiet.
    if removed_total:
        certificate = write_certificate(
            session,
            ctx.request,
            kind=DeletionKind.retention,
            job_id=ctx.job_id,
            started_at=as_of,
            policy=policy,
            removed={"data_records": dict(sorted(removed.items()))},
            removed_total=removed_total,
            kept_by_holds=kept,
            basis=policy.schedule.basis() | {"as_of": as_of.isoformat()},
        )
        publish_event(
            session,
            organisation_id=ctx.organisation_id,
            event_type=WebhookEventType.RetentionPurged,
            data={
                "deletion_certificate_id": str(certificate.id),
                "job_id": str(ctx.job_id),
                "removed_total": removed_total,
            },
        )
        result["deletion_certificate_id"] = str(certificate.id)
    ctx.progress(removed_total, removed_total)
    return result


def organisations_with_data(runtime: Runtime) -> list[Any]:
    """Ids of the organisations that hold linked data records."""
    with cross_organisation_session(
        runtime, reason="find organisations with linked data for the retention run"
    ) as session:
        return list(session.scalars(select(DataRecord.organisation_id).distinct()))


def enqueue_due_runs(runtime: Runtime) -> int:
    """One retention run per organisation with data and no run already queued or running."""
    return enqueue_once_per_organisation(
        runtime, organisations_with_data(runtime), kind=RUN_KIND, scan=SCAN_NAME
    )


@periodic_job(SCAN_NAME, minute="7")
def scan_for_retention_runs(runtime: Runtime) -> None:
    """Every hour: a retention run for each organisation with linked data."""
    enqueue_due_runs(runtime)
