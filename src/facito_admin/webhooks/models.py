"""Webhook endpoints of an organisation and the deliveries of events to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamped, Versioned, new_id, string_enum
from ..db.tenancy import TenantScoped


class DisabledReason(StrEnum):
    """Why an endpoint receives nothing: its organisation said so, or it answered 410 Gone."""

    manual = "manual"
    gone = "gone"


class DeliveryStatus(StrEnum):
    """pending: an attempt is due or running; succeeded: 2xx; failed: retries exhausted;
    abandoned: the endpoint answered 410, or was disabled before the attempt."""

    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    abandoned = "abandoned"


class WebhookEndpoint(TenantScoped, Versioned, Timestamped, Base):
    """An HTTPS URL of the organisation that receives the event types it subscribed to."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(500))
    # Values of events.WebhookEventType; a JSON list keeps adding a type free of DDL.
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[DisabledReason | None] = mapped_column(
        string_enum(DisabledReason, "webhook_disabled_reason")
    )
    disabled_at: Mapped[datetime | None]
    # Fernet token of the signing secret (crypto.py): signing needs the secret itself.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    secret_rotated_at: Mapped[datetime | None]


class WebhookDelivery(TenantScoped, Timestamped, Base):
    """One event for one endpoint: its signed payload and where its attempts stand."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organisation_id", "endpoint_id"],
            ["webhook_endpoints.organisation_id", "webhook_endpoints.id"],
            ondelete="CASCADE",
        ),
        Index("ix_webhook_deliveries_org_endpoint", "organisation_id", "endpoint_id", "id"),
        # Small by construction (finished deliveries leave it): the sweep (tasks.py) scans it
        # across organisations without reading the delivery history.
        Index(
            "ix_webhook_deliveries_pending",
            "organisation_id",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    endpoint_id: Mapped[uuid.UUID]
    # The Standard Webhooks `webhook-id`: one per published event, the same on every attempt
    # and for every endpoint, so that receivers can drop duplicates.
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100))
    # {"type", "timestamp", "data"}: sent byte-for-byte the same on every attempt.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(
        string_enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_response_status: Mapped[int | None]
    # The first few hundred characters of the receiver's answer, no more (it is theirs).
    last_response_excerpt: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The job of the attempt that is due; a job of an earlier schedule (before a redeliver)
    # finds another id here and does nothing.
    job_id: Mapped[uuid.UUID | None]
    finished_at: Mapped[datetime | None]
