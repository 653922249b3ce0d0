"""The webhooks' audit actions: endpoints and deliveries (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class WebhookAction(StrEnum):
    WebhookEndpointCreate = "org:webhook-endpoint:create"
    WebhookEndpointUpdate = "org:webhook-endpoint:update"
    WebhookEndpointDelete = "org:webhook-endpoint:delete"
    WebhookEndpointRotateSecret = "org:webhook-endpoint:rotate-secret"
    # The system disabled it: the receiver answered 410 Gone.
    WebhookEndpointDisable = "org:webhook-endpoint:disable"
    WebhookDeliveryRedeliver = "org:webhook-delivery:redeliver"
