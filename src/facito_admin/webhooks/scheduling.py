"""When delivery attempts happen: the retry schedule and the job of each attempt.

Each attempt is one job of kind `webhook-delivery` (tasks.py) whose row is the truth: the
first is sent after the publishing transaction commits, each retry is a job whose queue
message is held back until its time (`available_at`). The reaper re-sends a message that was
lost; the sweep (tasks.py) gives a fresh job to a pending delivery whose job ended without
recording an attempt. The jobs runner's own retries (max 3, short backoff) cover only our
infrastructure (database errors around an attempt); the receiver's failures are attempts,
counted on the delivery and retried on this schedule.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..db.base import utcnow
from ..jobs import enqueue_job, system_context
from ..jobs.models import Job, JobState
from .models import WebhookDelivery

DELIVERY_KIND = "webhook-delivery"
# Waits after the 1st, 2nd, … failed attempt (Standard Webhooks / Svix style): ten attempts
# over 2 days 23 h 35 min; a delivery whose tenth attempt fails is `failed`.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=20),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after ``attempts`` failed attempts, or None when none is left."""
    if attempts < 1 or attempts > len(RETRY_SCHEDULE):
        return None
    return RETRY_SCHEDULE[attempts - 1]


def schedule_attempt(
    session: Session, delivery: WebhookDelivery, *, delay: timedelta = timedelta(0)
) -> None:
    """Make ``delivery`` due after ``delay`` with a job of its own (sent after commit)."""
    previous = delivery.job_id
    if previous is not None:
        # A queued job of the earlier schedule would find another job id and do nothing;
        # cancelling it keeps the organisation's job list honest.
        session.execute(
            update(Job)
            .where(
                Job.organisation_id == delivery.organisation_id,
                Job.id == previous,
                Job.state == JobState.queued,
            )
            .values(state=JobState.cancelled, cancel_requested=True, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    job = enqueue_job(
        session,
        system_context(DELIVERY_KIND),
        kind=DELIVERY_KIND,
        params={"delivery_id": str(delivery.id)},
        delay=delay.total_seconds(),
        organisation_id=delivery.organisation_id,
    )
    delivery.job_id = job.id
    delivery.next_attempt_at = job.available_at
