"""Background work of webhooks: one job per delivery attempt, and a sweep for stranded ones.

An attempt reads what it needs, ends its read transaction (SQLite's write lock and a
PostgreSQL snapshot must not wait on a receiver), calls the receiver, then records the
outcome in a new transaction that re-checks the delivery is still its to record (a
redeliver meanwhile wins). See scheduling.py for the retry design.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..db.base import utcnow
from ..db.session import cross_organisation_session, end_read_snapshot, unit_of_work
from ..jobs import JobContext, job_handler, periodic_job
from ..jobs.models import ACTIVE_STATES, Job
from ..runtime import Runtime, runtime_of
from .actions import WebhookAction
from .crypto import SecretUnreadable, decrypt_secret
from .delivery import AttemptOutcome, attempt_delivery, body_of, signed_headers
from .models import DeliveryStatus, DisabledReason, WebhookDelivery, WebhookEndpoint
from .scheduling import DELIVERY_KIND, retry_delay, schedule_attempt

log = structlog.get_logger("facito_admin.webhooks")
# A pending delivery this late past its time whose job is over gets a new job (sweep).
SWEEP_GRACE = timedelta(minutes=5)
SWEEP_BATCH = 500


@dataclass(frozen=True)
class _Attempt:
    url: str
    body: str
    headers: dict[str, str]


def _current(session: Session, ctx: JobContext, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """The delivery if this job is the attempt it waits for, else None."""
    delivery = session.get(
        WebhookDelivery, (ctx.organisation_id, delivery_id), populate_existing=True
    )
    if delivery is None or delivery.status is not DeliveryStatus.pending:
        return None
    return delivery if delivery.job_id == ctx.job_id else None


def _finish(delivery: WebhookDelivery, status: DeliveryStatus) -> None:
    delivery.status = status
    delivery.next_attempt_at = None
    delivery.finished_at = utcnow()


@job_handler(DELIVERY_KIND)
def deliver_webhook(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Make one attempt of a delivery and record its outcome (retry, success, or the end)."""
    delivery_id = uuid.UUID(str(ctx.params["delivery_id"]))
    config = runtime_of(session).webhooks
    delivery = _current(session, ctx, delivery_id)
    if delivery is None:
        return {"skipped": "the delivery was redelivered, finished or removed"}
    endpoint = session.get(WebhookEndpoint, (ctx.organisation_id, delivery.endpoint_id))
    if endpoint is None or not endpoint.enabled:
        delivery.last_error = "the endpoint was disabled before this attempt"
        _finish(delivery, DeliveryStatus.abandoned)
        return {"status": DeliveryStatus.abandoned.value}
    now = utcnow()
    body = body_of(delivery.payload)
    try:
        secret = decrypt_secret(endpoint.secret_encrypted, secret_key=config.secret_key)
        attempt: _Attempt | None = _Attempt(
            endpoint.url,
            body,
            signed_headers(secret=secret, event_id=delivery.event_id, body=body, at=now),
        )
    except SecretUnreadable:
        attempt = None
    end_read_snapshot(session)
    if attempt is None:
        outcome = AttemptOutcome(
            None, error="not sent: the secret does not decrypt (secret key changed?); rotate it"
        )
    else:
        outcome = attempt_delivery(
            attempt.url, body=attempt.body, headers=attempt.headers, config=config
        )
    return _record(session, ctx, delivery_id, outcome)


def _record(
    session: Session, ctx: JobContext, delivery_id: uuid.UUID, outcome: AttemptOutcome
) -> dict[str, Any]:
    delivery = _current(session, ctx, delivery_id)
    if delivery is None:
        return {"skipped": "redelivered while this attempt ran", "http_status": outcome.status}
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    delivery.last_response_status = outcome.status
    delivery.last_response_excerpt = outcome.excerpt
    delivery.last_error = outcome.error
    if outcome.succeeded:
        _finish(delivery, DeliveryStatus.succeeded)
    elif outcome.gone:
        _finish(delivery, DeliveryStatus.abandoned)
        _disable_gone_endpoint(session, ctx, delivery)
    elif (delay := retry_delay(delivery.attempts)) is not None:
        schedule_attempt(session, delivery, delay=delay)
    else:
        _finish(delivery, DeliveryStatus.failed)
    log.info(
        "webhook_attempt",
        delivery_id=str(delivery.id),
        attempt=delivery.attempts,
        http_status=outcome.status,
        status=delivery.status.value,
    )
    return {
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "http_status": outcome.status,
    }


def _disable_gone_endpoint(session: Session, ctx: JobContext, delivery: WebhookDelivery) -> None:
    """410 Gone: the receiver says the endpoint no longer exists, so nothing more goes there."""
    endpoint = session.get(WebhookEndpoint, (ctx.organisation_id, delivery.endpoint_id))
    if endpoint is None or not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = DisabledReason.gone
    endpoint.disabled_at = utcnow()
    session.flush()
    record_event(
        session,
        ctx.request,
        action=WebhookAction.WebhookEndpointDisable,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details={"reason": DisabledReason.gone.value, "delivery_id": str(delivery.id)},
    )


def stranded_deliveries(runtime: Runtime) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(organisation, delivery) of pending deliveries past due whose job is over or missing."""
    cutoff = utcnow() - SWEEP_GRACE
    with cross_organisation_session(
        runtime, reason="webhook sweep: find pending deliveries whose attempt job ended"
    ) as session:
        rows = session.execute(
            select(WebhookDelivery.organisation_id, WebhookDelivery.id)
            .outerjoin(
                Job,
                and_(
                    Job.organisation_id == WebhookDelivery.organisation_id,
                    Job.id == WebhookDelivery.job_id,
                ),
            )
            .where(
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.next_attempt_at < cutoff,
                or_(Job.id.is_(None), Job.state.not_in(ACTIVE_STATES)),
            )
            .order_by(WebhookDelivery.organisation_id, WebhookDelivery.id)
            .limit(SWEEP_BATCH)
        ).all()
    return [(row[0], row[1]) for row in rows]


def sweep_deliveries(runtime: Runtime) -> int:
    """Give each stranded delivery a new attempt job now; the count of those rescheduled."""
    rescheduled = 0
    for organisation_id, delivery_id in stranded_deliveries(runtime):
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            delivery = session.get(WebhookDelivery, (organisation_id, delivery_id))
            if delivery is None or delivery.status is not DeliveryStatus.pending:
                continue
            job = session.get(Job, (organisation_id, delivery.job_id)) if delivery.job_id else None
            if job is not None and job.state in ACTIVE_STATES:
                continue
            schedule_attempt(session, delivery)
            rescheduled += 1
    if rescheduled:
        log.info("webhook_deliveries_rescheduled", count=rescheduled)
    return rescheduled


@periodic_job("webhook-delivery-sweep", minute="*/5")
def sweep(runtime: Runtime) -> None:
    """Every five minutes: a new attempt for deliveries whose attempt job ended unrecorded."""
    sweep_deliveries(runtime)
