"""The `audit-prune` job: prune an organisation's audit events past its `audit.retention_days`.

A daily scan finds the organisations with events older than the shortest retention any of
them may have (across organisations, one index probe each), checks each one's own effective
retention in its own session, and enqueues one job per organisation with events due, unless
one is already queued or running. The job prunes in batches, each committed with its
checkpoint and progress (GET …/jobs/{id}); a killed job resumes after its last batch.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ..audit.pruning import (
    PRUNE_BATCH,
    AuditChainBroken,
    has_events_before,
    organisations_with_events_before,
    prunable_count,
    prune_events,
)
from ..db.base import utcnow
from ..db.session import cross_organisation_session
from ..jobs import (
    JobContext,
    JobFailed,
    enqueue_once_per_organisation,
    job_handler,
    periodic_job,
)
from ..policies.effective.defaults import PolicyKey, policy_value
from ..runtime import Runtime

PRUNE_KIND = "audit-prune"
SCAN_NAME = "audit-prune-scan"
# The minimum of `audit.retention_days` (policies/parameters.py; change both together): no
# organisation keeps its log for less, so no organisation without older events has work.
SHORTEST_RETENTION_DAYS = 30


def retention_cutoff(session: Session, now: datetime) -> datetime:
    """The instant before which the organisation's events are past their retention."""
    return now - timedelta(days=policy_value(session, PolicyKey.AuditRetentionDays))


@job_handler(PRUNE_KIND)
def prune_audit_log(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Prune the organisation's events past its retention, one committed batch at a time."""
    saved = ctx.checkpoint or {}
    pruned = int(saved.get("pruned", 0))
    # A resumed run keeps the cutoff it started with: its progress total stays true.
    before = (
        datetime.fromisoformat(saved["before"])
        if "before" in saved
        else retention_cutoff(session, utcnow())
    )
    batch = int(ctx.params.get("batch", PRUNE_BATCH))
    total = pruned + prunable_count(session, before)
    while True:
        ctx.raise_if_cancelled()
        try:
            count = prune_events(session, ctx.request, before=before, limit=batch)
        except AuditChainBroken as exc:
            # Retrying cannot mend the chain; the organisation reads why in the job's error.
            raise JobFailed(exc.detail, retry=False) from exc
        pruned += count
        ctx.commit_step(
            checkpoint={"pruned": pruned, "before": before.isoformat()}, done=pruned, total=total
        )
        if count < batch:
            return {"pruned": pruned, "before": before.isoformat()}


def organisations_due(runtime: Runtime, now: datetime) -> list[uuid.UUID]:
    """Organisations with events older than the shortest retention (candidates only)."""
    with cross_organisation_session(
        runtime, reason="find organisations with audit events past the shortest retention"
    ) as session:
        return organisations_with_events_before(
            session, now - timedelta(days=SHORTEST_RETENTION_DAYS)
        )


def enqueue_due_prunes(runtime: Runtime) -> int:
    """One prune job per organisation with events past its retention and none under way."""
    now = utcnow()
    return enqueue_once_per_organisation(
        runtime,
        organisations_due(runtime, now),
        kind=PRUNE_KIND,
        scan=SCAN_NAME,
        # The candidates are past the shortest retention; each has its own (its contract's).
        still_due=lambda session: has_events_before(session, retention_cutoff(session, now)),
    )


@periodic_job(SCAN_NAME, minute="17", hour="3")
def scan_for_due_prunes(runtime: Runtime) -> None:
    """Daily: enqueue the audit log prunes that are due (retention is counted in days)."""
    enqueue_due_prunes(runtime)
