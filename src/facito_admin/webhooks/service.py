"""Webhook endpoints of an organisation (register, change, remove, rotate) and their deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.conditional import IfMatch
from ..common.pagination import Page, paginate
from ..db.base import new_id, utcnow
from ..db.tenancy import require_organisation
from ..errors import InvalidState, NotFound, ValidationFailed
from ..outbound import WebhookConfig
from ..tenants.lookups import get_organisation
from .actions import WebhookAction
from .crypto import encrypt_secret, generate_secret
from .events import WebhookEventType, forget_subscribers
from .models import DeliveryStatus, DisabledReason, WebhookDelivery, WebhookEndpoint
from .scheduling import schedule_attempt
from .targets import check_target

# The most endpoints one organisation may register: each event fans out to all of them.
MAX_ENDPOINTS = 20


class EndpointDisabled(InvalidState):
    code, title = "webhook-endpoint-disabled", "The webhook endpoint is disabled"


class TooManyEndpoints(InvalidState):
    code, title = "webhook-endpoints-limit", "The organisation has too many webhook endpoints"


@dataclass(frozen=True)
class NewSecret:
    """An endpoint with its signing secret in clear: returned once, never stored so."""

    endpoint: WebhookEndpoint
    secret: str


def _event_types(values: Sequence[str]) -> list[str]:
    if not values:
        raise ValidationFailed(
            "subscribe to at least one event type", errors={"event_types": ["must not be empty"]}
        )
    # Registry order, without duplicates: the stored list reads the same however it was sent.
    wanted = {WebhookEventType(value) for value in values}
    return [member.value for member in WebhookEventType if member in wanted]


def get_endpoint(session: Session, *, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """One webhook endpoint of the session's organisation."""
    endpoint = session.get(WebhookEndpoint, (require_organisation(session), endpoint_id))
    if endpoint is None:
        raise NotFound("no such webhook endpoint")
    return endpoint


def list_endpoints(session: Session, *, limit: int, cursor: str | None) -> Page[WebhookEndpoint]:
    """The organisation's webhook endpoints, oldest first."""
    get_organisation(session, organisation_id=require_organisation(session))
    return paginate(
        session, select(WebhookEndpoint), keys=[WebhookEndpoint.id], limit=limit, cursor=cursor
    )


def create_endpoint(
    session: Session,
    ctx: RequestContext,
    *,
    config: WebhookConfig,
    url: str,
    description: str | None,
    event_types: Sequence[str],
    enabled: bool = True,
) -> NewSecret:
    """Register an endpoint; its new signing secret is in the answer, and only there."""
    # The URL first: its DNS lookup must not run inside a transaction that holds locks.
    target = check_target(url, config)
    types = _event_types(event_types)
    organisation_id = require_organisation(session)
    count = len(session.scalars(select(WebhookEndpoint.id).limit(MAX_ENDPOINTS + 1)).all())
    if count >= MAX_ENDPOINTS:
        raise TooManyEndpoints(f"an organisation may register up to {MAX_ENDPOINTS} endpoints")
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        id=new_id(),
        organisation_id=organisation_id,
        url=target.url,
        description=description,
        event_types=types,
        enabled=enabled,
        disabled_reason=None if enabled else DisabledReason.manual,
        disabled_at=None if enabled else utcnow(),
        secret_encrypted=encrypt_secret(secret, secret_key=config.secret_key),
    )
    session.add(endpoint)
    session.flush()
    forget_subscribers(session)
    record_event(
        session,
        ctx,
        action=WebhookAction.WebhookEndpointCreate,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details={"url": endpoint.url, "event_types": types, "enabled": enabled},
    )
    return NewSecret(endpoint, secret)


def update_endpoint(
    session: Session,
    ctx: RequestContext,
    *,
    config: WebhookConfig,
    endpoint_id: uuid.UUID,
    if_match: IfMatch,
    changes: dict[str, Any],
) -> WebhookEndpoint:
    """Change the URL, description, event types or enabled flag (If-Match required)."""
    target = check_target(changes["url"], config) if "url" in changes else None
    types = _event_types(changes["event_types"]) if "event_types" in changes else None
    endpoint = get_endpoint(session, endpoint_id=endpoint_id)
    if_match.check(endpoint.id, endpoint.version)
    changed: dict[str, Any] = {}
    if target is not None and target.url != endpoint.url:
        endpoint.url = changed["url"] = target.url
    if types is not None and types != endpoint.event_types:
        endpoint.event_types = changed["event_types"] = types
    if "description" in changes and changes["description"] != endpoint.description:
        endpoint.description = changes["description"]
        changed["description"] = "changed"
    if "enabled" in changes and changes["enabled"] != endpoint.enabled:
        endpoint.enabled = changed["enabled"] = bool(changes["enabled"])
        endpoint.disabled_reason = None if endpoint.enabled else DisabledReason.manual
        endpoint.disabled_at = None if endpoint.enabled else utcnow()
    session.flush()
    forget_subscribers(session)
    record_event(
        session,
        ctx,
        action=WebhookAction.WebhookEndpointUpdate,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details={"changed": changed},
    )
    return endpoint


def delete_endpoint(
    session: Session, ctx: RequestContext, *, endpoint_id: uuid.UUID, if_match: IfMatch
) -> None:
    """Remove an endpoint and its delivery log (If-Match required)."""
    endpoint = get_endpoint(session, endpoint_id=endpoint_id)
    if_match.check(endpoint.id, endpoint.version)
    endpoint_id, url = endpoint.id, endpoint.url
    # The deliveries go with it (ON DELETE CASCADE); their queued attempts then find nothing.
    # Rows before the audit chain head, as an attempt recording its outcome locks them.
    session.delete(endpoint)
    session.flush()
    forget_subscribers(session)
    record_event(
        session,
        ctx,
        action=WebhookAction.WebhookEndpointDelete,
        target_type="webhook_endpoint",
        target_id=endpoint_id,
        details={"url": url},
    )


def rotate_secret(
    session: Session, ctx: RequestContext, *, config: WebhookConfig, endpoint_id: uuid.UUID
) -> NewSecret:
    """Replace the signing secret at once; the new one is in the answer, and only there."""
    endpoint = get_endpoint(session, endpoint_id=endpoint_id)
    secret = generate_secret()
    endpoint.secret_encrypted = encrypt_secret(secret, secret_key=config.secret_key)
    endpoint.secret_rotated_at = utcnow()
    session.flush()
    record_event(
        session,
        ctx,
        action=WebhookAction.WebhookEndpointRotateSecret,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
    )
    return NewSecret(endpoint, secret)


def list_deliveries(
    session: Session,
    *,
    endpoint_id: uuid.UUID,
    status: DeliveryStatus | None,
    event_type: str | None,
    limit: int,
    cursor: str | None,
) -> Page[WebhookDelivery]:
    """The endpoint's deliveries, newest first, optionally of one status or event type."""
    get_endpoint(session, endpoint_id=endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if event_type is not None:
        query = query.where(WebhookDelivery.event_type == event_type)
    return paginate(
        session, query, keys=[WebhookDelivery.id], limit=limit, cursor=cursor, descending=True
    )


def get_delivery(
    session: Session, *, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """One delivery of one endpoint, with its attempts so far."""
    delivery = session.get(
        WebhookDelivery, (require_organisation(session), delivery_id), populate_existing=True
    )
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound("no such delivery")
    return delivery


def redeliver(
    session: Session, ctx: RequestContext, *, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Attempt a delivery again now, whatever its status; later retries follow the schedule."""
    endpoint = get_endpoint(session, endpoint_id=endpoint_id)
    delivery = get_delivery(session, endpoint_id=endpoint_id, delivery_id=delivery_id)
    if not endpoint.enabled:
        raise EndpointDisabled("enable the endpoint before redelivering to it")
    previous = delivery.status
    # Lock order as in an attempt recording its outcome (tasks.py) and the jobs package:
    # the delivery row, then the audit chain head, then job rows.
    delivery.status = DeliveryStatus.pending
    delivery.finished_at = None
    session.flush()
    record_event(
        session,
        ctx,
        action=WebhookAction.WebhookDeliveryRedeliver,
        target_type="webhook_delivery",
        target_id=delivery.id,
        details={"endpoint_id": str(endpoint.id), "previous_status": previous.value},
    )
    schedule_attempt(session, delivery)
    session.flush()
    return delivery
