"""Notices to organisations: created per organisation in its own session, acknowledged by it.

Publishing a statement version (policies/statements/drafts.py) leaves the notices to the
background fan-out (policies/notices/tasks.py), which calls :func:`notify_organisation_of_statement`
once per organisation in a session bound to that organisation. Everything an organisation
hears about a publication belongs in that one function (the notice now; the webhook event
`policy.statement_published` too), so that each organisation is told exactly once.

Organisations onboarded after a publication get no notice of it: they sign up under the
statement then in force (GET /v1/privacy-statements/in-force) and its change log is public.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...audit.service import record_event
from ...auth.context import RequestContext
from ...common.pagination import Page, paginate
from ...db.base import utcnow
from ...db.tenancy import TenancyViolation, require_organisation
from ...errors import InvalidState, NotFound
from ...jobs import system_context
from ...webhooks.events import WebhookEventType, publish_event
from ..actions import PolicyAction
from ..models import NoticeKind, OrganisationNotice, PrivacyStatementVersion, StatementStatus
from ..statements.diff import storage_additions
from ..statements.service import previous_published


class NoticeAlreadyAcknowledged(InvalidState):
    code, title = "notice-already-acknowledged", "The notice was acknowledged already"


def notify_organisation_of_statement(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    statement: PrivacyStatementVersion,
    ctx: RequestContext | None = None,
) -> None:
    """Tell one organisation about a published version, once (a repeat does nothing)."""
    if require_organisation(session) != organisation_id:
        raise TenancyViolation("notify an organisation in a session of that organisation")
    if statement.status is not StatementStatus.published:
        raise ValueError("only published statement versions are announced")
    existing = session.scalar(
        select(OrganisationNotice.id).where(
            OrganisationNotice.kind == NoticeKind.statement_published,
            OrganisationNotice.statement_id == statement.id,
        )
    )
    if existing is not None:
        return
    previous = previous_published(session, statement=statement)
    # GDPR art. 28(2): new subprocessors or regions may be objected to until they apply.
    additions = storage_additions(previous.parameters, statement.parameters) if previous else None
    notice = OrganisationNotice(
        organisation_id=organisation_id,
        kind=NoticeKind.statement_published,
        statement_id=statement.id,
        material=statement.material,
        effective_from=statement.effective_from,
        additions=additions,
        objection_until=statement.effective_from if additions else None,
    )
    session.add(notice)
    session.flush()
    record_event(
        session,
        ctx or system_context("statement-notices"),
        action=PolicyAction.NoticeCreate,
        target_type="notice",
        target_id=notice.id,
        details={
            "kind": notice.kind.value,
            "statement_id": statement.id,
            "version_label": statement.version_label,
            "material": statement.material,
            "effective_from": statement.effective_from,
            "additions": additions,
            "objection_until": notice.objection_until,
        },
    )
    publish_event(
        session,
        organisation_id=organisation_id,
        event_type=WebhookEventType.PolicyStatementPublished,
        data={
            "notice_id": str(notice.id),
            "statement_id": str(statement.id),
            "version_label": statement.version_label,
            "last_updated": statement.last_updated.isoformat(),
            "published_at": statement.published_at.isoformat() if statement.published_at else None,
            "effective_from": statement.effective_from.isoformat(),
            "material": statement.material,
            "added_subprocessors": notice.added_subprocessors,
            "added_regions": notice.added_regions,
            "objection_until": (
                notice.objection_until.isoformat() if notice.objection_until else None
            ),
            "changes": [
                {"summary": change.summary, "reason": change.reason, "material": change.material}
                for change in statement.changes
            ],
        },
    )


def list_notices(
    session: Session, *, acknowledged: bool | None, limit: int, cursor: str | None
) -> Page[OrganisationNotice]:
    """The organisation's notices, newest first; optionally only (un)acknowledged ones."""
    query = select(OrganisationNotice)
    if acknowledged is True:
        query = query.where(OrganisationNotice.acknowledged_at.is_not(None))
    elif acknowledged is False:
        query = query.where(OrganisationNotice.acknowledged_at.is_(None))
    return paginate(
        session, query, keys=[OrganisationNotice.id], limit=limit, cursor=cursor, descending=True
    )


def get_notice(session: Session, *, notice_id: uuid.UUID) -> OrganisationNotice:
    """One notice of the session's organisation."""
    notice = session.scalar(select(OrganisationNotice).where(OrganisationNotice.id == notice_id))
    if notice is None:
        raise NotFound("no such notice")
    return notice


def acknowledge_notice(
    session: Session, ctx: RequestContext, *, notice_id: uuid.UUID
) -> OrganisationNotice:
    """Record that the organisation took note; once only, with who and when."""
    notice = get_notice(session, notice_id=notice_id)
    if notice.acknowledged_at is not None:
        raise NoticeAlreadyAcknowledged(
            f"acknowledged by {notice.acknowledged_by} at {notice.acknowledged_at.isoformat()}"
        )
    notice.acknowledged_at = utcnow()
    notice.acknowledged_by = ctx.principal.display_name[:200]
    notice.acknowledged_by_oid = ctx.principal.object_id[:36]
    session.flush()
    record_event(
        session,
        ctx,
        action=PolicyAction.NoticeAcknowledge,
        target_type="notice",
        target_id=notice.id,
        details={"kind": notice.kind.value, "statement_id": notice.statement_id},
    )
    return notice
