"""Request and response shapes of webhook endpoints and deliveries."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import OutputSchema, PatchSchema, StrictBoolean, StrictSchema, Text
from .events import EVENT_DESCRIPTIONS, WebhookEventType
from .models import DeliveryStatus, DisabledReason
from .scheduling import RETRY_SCHEDULE
from .targets import MAX_URL_LENGTH

_TYPES_DOC = "Event types to receive: " + ", ".join(f"`{t.value}`" for t in WebhookEventType)
_URL_DOC = (
    "https URL whose host resolves to public addresses only (checked now and before every "
    "attempt); no credentials, no fragment"
)
# What targets.check_target enforces, as far as a schema can say it (development servers
# also take http, which the document does not advertise).
_URL = {"description": _URL_DOC, "format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]://"}
_RETRIES = ", ".join(str(delay) for delay in RETRY_SCHEDULE)


def _event_types(*, required: bool) -> ma.fields.List[Any]:
    return ma.fields.List(
        ma.fields.Enum(WebhookEventType, by_value=True),
        required=required,
        validate=ma.validate.Length(min=1, max=len(WebhookEventType)),
        metadata={"description": _TYPES_DOC},
    )


class WebhookEndpointSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    url = ma.fields.String(required=True)
    description = ma.fields.String(required=True, allow_none=True)
    event_types = ma.fields.List(ma.fields.String(), required=True)
    enabled = ma.fields.Boolean(required=True)
    disabled_reason = ma.fields.Enum(
        DisabledReason,
        required=True,
        allow_none=True,
        metadata={"description": "`manual` (turned off), `gone` (the receiver answered 410)"},
    )
    disabled_at = ma.fields.DateTime(required=True, allow_none=True)
    secret_rotated_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class WebhookEndpointWithSecretSchema(WebhookEndpointSchema):
    secret = ma.fields.String(
        required=True,
        metadata={
            "description": "Signing secret (`whsec_…`, Standard Webhooks). Shown only in this "
            "answer: store it now; a lost secret can only be rotated"
        },
    )


WebhookEndpointPageSchema = page_schema(WebhookEndpointSchema, "WebhookEndpointPageSchema")


class WebhookEndpointCreateSchema(StrictSchema):
    url = Text(required=True, validate=ma.validate.Length(max=MAX_URL_LENGTH), metadata=_URL)
    description = Text(allow_none=True, load_default=None, validate=ma.validate.Length(max=500))
    event_types = _event_types(required=True)
    enabled = StrictBoolean(load_default=True)


class WebhookEndpointUpdateSchema(PatchSchema):
    """Only the fields sent change; `null` clears the description."""

    url = Text(validate=ma.validate.Length(max=MAX_URL_LENGTH), metadata=_URL)
    description = Text(allow_none=True, validate=ma.validate.Length(max=500))
    event_types = _event_types(required=False)
    enabled = StrictBoolean(
        metadata={"description": "false stops deliveries (reason `manual`); true resumes"}
    )


class WebhookDeliverySchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    endpoint_id = ma.fields.UUID(required=True)
    event_id = ma.fields.String(required=True, metadata={"description": "The `webhook-id`"})
    event_type = ma.fields.String(required=True)
    payload = ma.fields.Dict(
        required=True, metadata={"description": "The JSON body sent: type, timestamp, data"}
    )
    status = ma.fields.Enum(
        DeliveryStatus,
        required=True,
        metadata={
            "description": "`pending` (an attempt is due), `succeeded` (2xx), `failed` (every "
            "attempt failed), `abandoned` (410, or the endpoint was disabled)"
        },
    )
    attempts = ma.fields.Integer(required=True)
    next_attempt_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": f"When pending: the next attempt. Retries after {_RETRIES}"},
    )
    last_attempt_at = ma.fields.DateTime(required=True, allow_none=True)
    last_response_status = ma.fields.Integer(required=True, allow_none=True)
    last_response_excerpt = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "The answer's first characters"}
    )
    last_error = ma.fields.String(required=True, allow_none=True)
    finished_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


WebhookDeliveryPageSchema = page_schema(WebhookDeliverySchema, "WebhookDeliveryPageSchema")


class WebhookDeliveryQueryArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(DeliveryStatus, load_default=None)
    event_type = ma.fields.Enum(WebhookEventType, by_value=True, load_default=None)


class WebhookEventTypeSchema(ma.Schema):
    type = ma.fields.String(required=True)
    description = ma.fields.String(required=True)


class WebhookEventTypeListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(WebhookEventTypeSchema), required=True)


def event_type_items() -> dict[str, Any]:
    """The registry as the API shows it."""
    return {
        "items": [
            {"type": member.value, "description": EVENT_DESCRIPTIONS[member]}
            for member in WebhookEventType
        ]
    }
