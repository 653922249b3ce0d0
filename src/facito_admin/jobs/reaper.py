"""The reaper (every minute): jobs whose worker died, or whose queue message was lost, run again.

It looks across organisations once (the grep-able cross_organisation_session escape), then
acts in one session per organisation. Every change is a conditional UPDATE that re-checks the
condition it found, so several consumers may reap at once without harm.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import structlog
from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from ..db.base import utcnow
from ..db.session import cross_organisation_session, unit_of_work
from .models import Job, JobState
from .queue import send_after_commit

if TYPE_CHECKING:
    from .queue import JobQueue

log = structlog.get_logger("facito_admin.jobs")
BATCH = 1000
WORKER_LOST = "the worker running this job stopped responding"


@dataclass
class ReapReport:
    requeued: list[uuid.UUID] = field(default_factory=list)
    resent: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    cancelled: list[uuid.UUID] = field(default_factory=list)


def _ids(session: Session, statement: Any) -> list[uuid.UUID]:
    result = cast(
        CursorResult[Any],
        session.execute(statement.returning(Job.id).execution_options(synchronize_session=False)),
    )
    return list(result.scalars().all())


def reap_jobs(queue: JobQueue) -> ReapReport:
    """Re-queue stale running jobs and re-send old queued ones; fail those out of attempts."""
    now = utcnow()
    stale = now - timedelta(seconds=queue.timing.stale_seconds)
    waiting = now - timedelta(seconds=queue.timing.queued_stale_seconds)
    running_stale = and_(Job.state == JobState.running, Job.heartbeat_at < stale)
    queued_stale = and_(Job.state == JobState.queued, Job.available_at < waiting)
    with cross_organisation_session(
        queue.runtime, reason="job reaper: find jobs whose worker or queue message was lost"
    ) as session:
        rows = session.execute(
            select(Job.organisation_id, Job.id)
            .where(or_(running_stale, queued_stale))
            .order_by(Job.organisation_id, Job.id)
            .limit(BATCH)
        ).all()
    by_organisation: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for organisation_id, job_id in rows:
        by_organisation[organisation_id].append(job_id)

    report = ReapReport()
    for organisation_id, job_ids in by_organisation.items():
        with unit_of_work(queue.runtime, organisation_id=organisation_id) as session:
            mine = Job.id.in_(job_ids)
            ended = {"finished_at": now, "lease": None}
            report.cancelled += _ids(
                session,
                update(Job)
                .where(mine, running_stale, Job.cancel_requested.is_(True))
                .values(state=JobState.cancelled, **ended),
            )
            report.failed += _ids(
                session,
                update(Job)
                .where(mine, running_stale, Job.attempts >= Job.max_attempts)
                .values(state=JobState.failed, error=WORKER_LOST, **ended),
            )
            requeued = _ids(
                session,
                update(Job)
                .where(mine, running_stale)
                .values(
                    state=JobState.queued,
                    lease=None,
                    available_at=now,
                    error=f"{WORKER_LOST}; it was queued again",
                ),
            )
            # available_at moves on, so a job waiting in a long queue gets one extra message
            # per period rather than one per reaper run.
            resent = _ids(session, update(Job).where(mine, queued_stale).values(available_at=now))
            for job_id in requeued + resent:
                send_after_commit(session, organisation_id, job_id)
        report.requeued += requeued
        report.resent += resent
    if rows:
        log.info(
            "jobs_reaped",
            requeued=len(report.requeued),
            resent=len(report.resent),
            failed=len(report.failed),
            cancelled=len(report.cancelled),
        )
    return report
