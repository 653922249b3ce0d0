"""Webhook endpoints of an organisation, their delivery log, and the event type registry."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..common.pagination import PageArgsSchema
from ..http import (
    ETAG_DOC,
    IF_MATCH_DOC,
    Blueprint,
    current_ctx,
    db_session,
    etag_header,
    if_match,
    page_response,
    require,
    runtime,
    with_etag,
)
from ..outbound import WebhookConfig
from . import service
from .schemas import (
    WebhookDeliveryPageSchema,
    WebhookDeliveryQueryArgsSchema,
    WebhookDeliverySchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointPageSchema,
    WebhookEndpointSchema,
    WebhookEndpointUpdateSchema,
    WebhookEndpointWithSecretSchema,
    WebhookEventTypeListSchema,
    event_type_items,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/webhook-endpoints",
    description="Webhook endpoints (signed with Standard Webhooks) and their delivery log",
)
event_types_blp = Blueprint(
    "webhook_event_types",
    __name__,
    url_prefix="/v1/webhook-event-types",
    description="The event types webhook endpoints can subscribe to",
)

_ENDPOINT_FIELDS = tuple(WebhookEndpointSchema().fields)
# Answers with the secret: no cache keeps them, nor the Idempotency-Key store (idempotency.py).
_NO_STORE = {"Cache-Control": "no-store"}


def _config() -> WebhookConfig:
    return runtime().webhooks


def _with_secret(new: service.NewSecret) -> dict[str, Any]:
    shown = {name: getattr(new.endpoint, name) for name in _ENDPOINT_FIELDS}
    return shown | {"secret": new.secret}


@blp.route("")
class WebhookEndpoints(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, WebhookEndpointPageSchema)
    @require(Permission.WebhooksRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's webhook endpoints"""
        page = service.list_endpoints(db_session(), limit=args["limit"], cursor=args["cursor"])
        return page_response(page, args)

    @blp.arguments(WebhookEndpointCreateSchema)
    @blp.response(
        201,
        WebhookEndpointWithSecretSchema,
        headers={"Location": {"schema": {"type": "string"}}, **ETAG_DOC},
    )
    @require(Permission.WebhooksWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Register a webhook endpoint; the answer shows its signing secret, once"""
        new = service.create_endpoint(
            db_session(),
            current_ctx(),
            config=_config(),
            url=body["url"],
            description=body["description"],
            event_types=body["event_types"],
            enabled=body["enabled"],
        )
        location = url_for(
            "webhooks.WebhookEndpointById", org_id=org_id, endpoint_id=new.endpoint.id
        )
        headers = {"Location": location, **etag_header(new.endpoint), **_NO_STORE}
        return _with_secret(new), 201, headers


@blp.route("/<uuid:endpoint_id>")
class WebhookEndpointById(MethodView):
    @blp.response(200, WebhookEndpointSchema, headers=ETAG_DOC)
    @require(Permission.WebhooksRead)
    def get(self, org_id: UUID, endpoint_id: UUID) -> Any:
        """Read a webhook endpoint (never its secret)"""
        endpoint = service.get_endpoint(db_session(), endpoint_id=endpoint_id)
        return with_etag(endpoint)

    @blp.arguments(WebhookEndpointUpdateSchema)
    @blp.response(200, WebhookEndpointSchema, headers=ETAG_DOC)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.WebhooksWrite)
    def patch(self, body: dict[str, Any], org_id: UUID, endpoint_id: UUID) -> Any:
        """Change a webhook endpoint's URL, description, event types or enabled flag"""
        endpoint = service.update_endpoint(
            db_session(),
            current_ctx(),
            config=_config(),
            endpoint_id=endpoint_id,
            if_match=if_match(),
            changes=body,
        )
        return with_etag(endpoint)

    @blp.response(204)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.WebhooksWrite)
    def delete(self, org_id: UUID, endpoint_id: UUID) -> Any:
        """Remove a webhook endpoint and its delivery log (If-Match required)"""
        service.delete_endpoint(
            db_session(), current_ctx(), endpoint_id=endpoint_id, if_match=if_match()
        )
        return "", 204


@blp.route("/<uuid:endpoint_id>/rotate-secret")
class WebhookEndpointRotateSecret(MethodView):
    @blp.doc(operationId="rotateWebhookEndpointSecret")
    @blp.response(200, WebhookEndpointWithSecretSchema, headers=ETAG_DOC)
    @require(Permission.WebhooksWrite)
    def post(self, org_id: UUID, endpoint_id: UUID) -> Any:
        """Replace the signing secret at once; the answer shows the new one, once"""
        new = service.rotate_secret(
            db_session(), current_ctx(), config=_config(), endpoint_id=endpoint_id
        )
        return _with_secret(new), 200, etag_header(new.endpoint) | _NO_STORE


@blp.route("/<uuid:endpoint_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.arguments(WebhookDeliveryQueryArgsSchema, location="query")
    @blp.response(200, WebhookDeliveryPageSchema)
    @require(Permission.WebhooksRead)
    def get(self, args: dict[str, Any], org_id: UUID, endpoint_id: UUID) -> Any:
        """List the endpoint's deliveries, newest first"""
        page = service.list_deliveries(
            db_session(),
            endpoint_id=endpoint_id,
            status=args["status"],
            event_type=args["event_type"],
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(page, args)


@blp.route("/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>")
class WebhookDeliveryById(MethodView):
    @blp.response(200, WebhookDeliverySchema)
    @require(Permission.WebhooksRead)
    def get(self, org_id: UUID, endpoint_id: UUID, delivery_id: UUID) -> Any:
        """Read a delivery: status, attempts, last answer"""
        return service.get_delivery(db_session(), endpoint_id=endpoint_id, delivery_id=delivery_id)


@blp.route("/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/redeliver")
class WebhookDeliveryRedeliver(MethodView):
    @blp.response(202, WebhookDeliverySchema)
    @blp.alt_response(409, description="The endpoint is disabled")
    @require(Permission.WebhooksWrite)
    def post(self, org_id: UUID, endpoint_id: UUID, delivery_id: UUID) -> Any:
        """Attempt a delivery again now (accepted: the attempt runs in the background)"""
        return service.redeliver(
            db_session(), current_ctx(), endpoint_id=endpoint_id, delivery_id=delivery_id
        )


@event_types_blp.route("")
class WebhookEventTypes(MethodView):
    @event_types_blp.response(200, WebhookEventTypeListSchema)
    @require()
    def get(self) -> Any:
        """The webhook event types (any signed-in caller)"""
        return event_type_items()
