"""Making a checkpoint: signed, stored, and queued for the organisation's webhooks."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..audit.actions import AuditAction
from ..audit.checkpoints import MadeBy, checkpoint_due, issue_checkpoint
from ..audit.models import AuditCheckpoint
from ..audit.service import record_event
from ..auth.context import RequestContext
from ..webhooks.events import WebhookEventType, publish_event


def _publish(session: Session, checkpoint: AuditCheckpoint) -> None:
    publish_event(
        session,
        organisation_id=checkpoint.organisation_id,
        event_type=WebhookEventType.AuditCheckpoint,
        data={
            "checkpoint_id": str(checkpoint.id),
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "issued_at": checkpoint.issued_at.isoformat().replace("+00:00", "Z"),
            "key_id": checkpoint.key_id,
            "made_by": checkpoint.made_by,
            "jws": checkpoint.jws,
        },
    )


def request_checkpoint(session: Session, ctx: RequestContext) -> AuditCheckpoint:
    """Sign the chain head now; the request's own event comes after it (not covered)."""
    checkpoint = issue_checkpoint(session, made_by=MadeBy.request)
    record_event(
        session,
        ctx,
        action=AuditAction.AuditLogCheckpoint,
        target_type="audit-checkpoint",
        target_id=checkpoint.id,
        details={
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "key_id": checkpoint.key_id,
        },
    )
    _publish(session, checkpoint)
    return checkpoint


def checkpoint_if_moved(session: Session) -> AuditCheckpoint | None:
    """The daily checkpoint: sign the head unless a checkpoint of it exists already."""
    if not checkpoint_due(session):
        return None
    checkpoint = issue_checkpoint(session, made_by=MadeBy.schedule)
    _publish(session, checkpoint)
    return checkpoint
