"""The event types webhooks carry, and publishing an event to an organisation's endpoints.

To add an event type (later issues): add a member to WebhookEventType with its description in
EVENT_DESCRIPTIONS, then call publish_event where it happens. Endpoints subscribe by value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..db.base import new_id, utcnow
from ..db.tenancy import REUSED_STATEMENT, TenancyViolation, scoped_rows, session_organisation
from ..jobs.context import json_value
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .scheduling import schedule_attempt


class WebhookEventType(StrEnum):
    """Every event an endpoint can subscribe to (`domain.what_happened`)."""

    PolicyStatementPublished = "policy.statement_published"
    PolicyContractChanged = "policy.contract_changed"
    PolicyObjectionRecorded = "policy.objection_recorded"
    OrganisationResidencyInvalid = "organisation.residency_invalid"
    AccountCreated = "account.created"
    AccountUpdated = "account.updated"
    AccountDisabled = "account.disabled"
    AccountEnabled = "account.enabled"
    AccountDeleted = "account.deleted"
    AccountRestored = "account.restored"
    AccountPurged = "account.purged"
    DataRecordsIngested = "data_records.ingested"
    LegalHoldPlaced = "legal_hold.placed"
    LegalHoldReleased = "legal_hold.released"
    RetentionPurged = "retention.purged"
    DsrReceived = "dsr.received"
    DsrExtended = "dsr.extended"
    DsrDueSoon = "dsr.due_soon"
    DsrOverdue = "dsr.overdue"
    DsrCompleted = "dsr.completed"
    DsrRejected = "dsr.rejected"
    DsrCancelled = "dsr.cancelled"
    DsrRectified = "dsr.rectified"
    DsrErased = "dsr.erased"
    DsrRestricted = "dsr.restricted"
    SupportAccessRequested = "support.access_requested"
    SupportAccessStarted = "support.access_started"
    SupportAccessDenied = "support.access_denied"
    SupportAccessRevoked = "support.access_revoked"
    SupportAccessEnded = "support.access_ended"
    SupportAccessExpired = "support.access_expired"
    SupportAccessWithdrawn = "support.access_withdrawn"
    IncidentReported = "incident.reported"
    IncidentUpdated = "incident.updated"
    IncidentClosed = "incident.closed"
    AuditCheckpoint = "audit.checkpoint"


EVENT_DESCRIPTIONS: dict[WebhookEventType, str] = {
    WebhookEventType.PolicyStatementPublished: "Facito published a privacy statement version",
    WebhookEventType.PolicyContractChanged: "A contract of the organisation was recorded or "
    "changed",
    WebhookEventType.PolicyObjectionRecorded: "The organisation objected to the subprocessors "
    "or regions a privacy statement version adds (GDPR art. 28(2))",
    WebhookEventType.OrganisationResidencyInvalid: "The organisation's regions no longer "
    "satisfy its effective policy",
    WebhookEventType.AccountCreated: "An account was created (by hand, sync or SCIM)",
    WebhookEventType.AccountUpdated: "An account's attributes changed",
    WebhookEventType.AccountDisabled: "An account was disabled; its product access ended",
    WebhookEventType.AccountEnabled: "A disabled account was enabled again",
    WebhookEventType.AccountDeleted: "An account was deleted; it can be restored until its "
    "purge time",
    WebhookEventType.AccountRestored: "A deleted account was restored",
    WebhookEventType.AccountPurged: "A deleted account was removed for good",
    WebhookEventType.DataRecordsIngested: "A batch of linked data records was ingested",
    WebhookEventType.LegalHoldPlaced: "A legal hold was placed",
    WebhookEventType.LegalHoldReleased: "A legal hold was released",
    WebhookEventType.RetentionPurged: "A retention run removed data for good; its deletion "
    "certificate is ready",
    WebhookEventType.DsrReceived: "A data-subject request reached the organisation's queue",
    WebhookEventType.DsrExtended: "A data-subject request's response time was extended; the "
    "subject is to be told why",
    WebhookEventType.DsrDueSoon: "A data-subject request is due within the configured days",
    WebhookEventType.DsrOverdue: "A data-subject request passed its due time unanswered",
    WebhookEventType.DsrCompleted: "A data-subject request was completed",
    WebhookEventType.DsrRejected: "A data-subject request was rejected, with reasons",
    WebhookEventType.DsrCancelled: "A data-subject request was cancelled",
    WebhookEventType.DsrRectified: "A subject's data was rectified: update your copies "
    "(GDPR art. 19)",
    WebhookEventType.DsrErased: "A subject's data was erased: erase your copies (GDPR art. 19)",
    WebhookEventType.DsrRestricted: "A subject's data was restricted: stop using your copies "
    "beyond storing them (GDPR art. 19)",
    WebhookEventType.SupportAccessRequested: "A Facito support engineer asks for access to the "
    "organisation; its administrators approve or deny",
    WebhookEventType.SupportAccessStarted: "A support grant started (approved, or at once where "
    "the policy needs no approval)",
    WebhookEventType.SupportAccessDenied: "A support access request was denied",
    WebhookEventType.SupportAccessRevoked: "A support grant was revoked before its end",
    WebhookEventType.SupportAccessEnded: "A support grant reached its end, or its holder gave "
    "it up",
    WebhookEventType.SupportAccessExpired: "A support access request expired unanswered",
    WebhookEventType.SupportAccessWithdrawn: "A support engineer withdrew a pending request",
    WebhookEventType.IncidentReported: "Facito notified the organisation of a security incident "
    "that concerns it (GDPR art. 33(2)); its 72 hours to notify its supervisory authority start",
    WebhookEventType.IncidentUpdated: "Facito updated an incident that concerns the organisation",
    WebhookEventType.IncidentClosed: "Facito closed an incident that concerns the organisation",
    WebhookEventType.AuditCheckpoint: "Facito signed a checkpoint of the organisation's audit "
    "chain head (daily when it moved, or on request): keep it, and /verify proves later that "
    "the chain still extends it",
}


def new_event_id() -> str:
    """A Standard Webhooks message id: `msg_` and a time-ordered UUID (hex)."""
    return f"msg_{new_id().hex}"


@dataclass(frozen=True)
class _Subscriber:
    endpoint_id: uuid.UUID
    event_types: frozenset[str]


# session.info key: (transaction, organisation id, its enabled endpoints) of the last lookup.
_SUBSCRIBERS_KEY = "webhook_subscribers"


# Run by every change that publishes (each SCIM create): built once, its scoped form kept by
# the tenancy guard (db/tenancy.py).
_ENABLED_ENDPOINTS = (
    select(WebhookEndpoint.id, WebhookEndpoint.event_types)
    .where(
        WebhookEndpoint.organisation_id
        == bindparam("endpoints_of", type_=WebhookEndpoint.organisation_id.type),
        WebhookEndpoint.enabled.is_(True),
    )
    .order_by(WebhookEndpoint.id)
    .execution_options(**{REUSED_STATEMENT: True})
)


def _subscribers(session: Session, organisation_id: uuid.UUID) -> tuple[_Subscriber, ...]:
    """The organisation's enabled endpoints, read once per transaction.

    A directory sync publishes an event per changed account: without this, each would read
    the endpoints again. The set is kept for the transaction that read it (a later one, such
    as a job's next step, reads again); endpoint changes in the same transaction call
    forget_subscribers (service.py).
    """
    transaction = session.get_transaction()
    cached = session.info.get(_SUBSCRIBERS_KEY)
    if (
        cached is not None
        and transaction is not None
        and cached[0] is transaction
        and cached[1] == organisation_id
    ):
        return cast(tuple[_Subscriber, ...], cached[2])
    params = {"endpoints_of": organisation_id}
    # A session of the organisation reads from the compiled form (db/compiled.py); through the
    # Session's execution this read cost a twentieth of a SCIM create's CPU (py-spy).
    rows = (
        scoped_rows(session, _ENABLED_ENDPOINTS, params)
        if session_organisation(session) is not None
        else session.execute(_ENABLED_ENDPOINTS, params).all()
    )
    found = tuple(_Subscriber(row.id, frozenset(row.event_types)) for row in rows)
    session.info[_SUBSCRIBERS_KEY] = (session.get_transaction(), organisation_id, found)
    return found


def forget_subscribers(session: Session) -> None:
    """Drop the session's endpoint set: an endpoint was added, changed or removed."""
    session.info.pop(_SUBSCRIBERS_KEY, None)


def publish_event(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    event_type: WebhookEventType,
    data: dict[str, Any],
) -> None:
    """Queue ``event_type`` with ``data`` for every enabled endpoint of the organisation
    subscribed to it, in the caller's transaction.

    Works in a session bound to that organisation, or in a cross-organisation session (an
    event for every organisation). Delivery rows are written now; their first attempt is a
    job sent after the commit, so nothing goes out if the caller rolls back. ``data`` must
    be JSON (TypeError otherwise) and is shown to the organisation's receivers: never put
    secrets or another organisation's facts in it.
    """
    event_type = WebhookEventType(event_type)
    publish_events(session, organisation_id=organisation_id, events=[(event_type, data)])


def publish_events(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    events: Iterable[tuple[WebhookEventType, dict[str, Any]]],
) -> int:
    """:func:`publish_event` for many events with one endpoint lookup; deliveries made.

    Costs one indexed read per transaction when no endpoint subscribes to the events.
    """
    bound = session_organisation(session)
    if bound is not None and bound != organisation_id:
        raise TenancyViolation("this session serves another organisation")
    subscribers = _subscribers(session, organisation_id)
    if not subscribers:
        return 0
    subscribed = frozenset().union(*(s.event_types for s in subscribers))
    made = 0
    for given, data in events:
        event_type = WebhookEventType(given)
        if event_type.value not in subscribed:
            continue
        now = utcnow()
        payload = {
            "type": event_type.value,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": json_value(data, "an event's data"),
        }
        event_id = new_event_id()
        for subscriber in subscribers:
            if event_type.value not in subscriber.event_types:
                continue
            delivery = WebhookDelivery(
                id=new_id(),
                organisation_id=organisation_id,
                endpoint_id=subscriber.endpoint_id,
                event_id=event_id,
                event_type=event_type.value,
                payload=payload,
                status=DeliveryStatus.pending,
                attempts=0,
            )
            session.add(delivery)
            schedule_attempt(session, delivery)
            made += 1
    return made
