"""Objections to new subprocessors and regions (GDPR art. 28(2)): the organisation's, on its
notice, and the list Facito's operators and DPO read across organisations.

A notice of a statement version that adds a subprocessor or a region (policies/statements/
diff.storage_additions) carries an objection window that closes when the version takes effect
(`objection_until`); notices_service.notify_organisation_of_statement sets it. An organisation
objects once per notice; the objection lives on the notice itself and on the organisation's
audit chain.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ...audit.service import record_event
from ...auth.context import RequestContext
from ...common.pagination import Page, encode_cursor, keyset_statement
from ...db.base import utcnow
from ...db.session import SessionSource, cross_organisation_session
from ...errors import Conflict, InvalidState, NotFound
from ...tenants.models import Organisation
from ...webhooks.events import WebhookEventType, publish_event
from ..actions import PolicyAction
from ..models import OrganisationNotice, PrivacyStatementVersion, StatementStatus
from .service import get_notice


class NoObjectionWindow(InvalidState):
    code, title = "no-objection-window", "The notice has no objection window"


class ObjectionWindowClosed(InvalidState):
    code, title = "objection-window-closed", "The objection window has closed"


class ObjectionAlreadyRecorded(Conflict):
    code, title = "objection-already-recorded", "The organisation objected already"


def object_to_notice(
    session: Session, ctx: RequestContext, *, notice_id: uuid.UUID, reason: str
) -> tuple[OrganisationNotice, bool]:
    """Record the organisation's objection to what a version adds; whether it is new.

    The same objection again answers as the first did (a retried request); another reason
    after the first is refused: the objection on record is the one Facito acts on.
    """
    notice = get_notice(session, notice_id=notice_id)
    if notice.objection_until is None:
        raise NoObjectionWindow(
            "the version this notice announces adds no subprocessor or region: "
            "there is nothing to object to"
        )
    if notice.objected_at is not None:
        if notice.objection_reason == reason:
            return notice, False
        raise ObjectionAlreadyRecorded(
            f"objected by {notice.objected_by} at {notice.objected_at.isoformat()}",
            extra={"objected_at": notice.objected_at.isoformat()},
        )
    now = utcnow()
    if now >= notice.objection_until:
        raise ObjectionWindowClosed(
            f"objections were possible until {notice.objection_until.isoformat()}, "
            "when the version took effect",
            extra={"objection_until": notice.objection_until.isoformat()},
        )
    notice.objected_at = now
    notice.objected_by = ctx.principal.display_name[:200]
    notice.objected_by_oid = ctx.principal.object_id[:36]
    notice.objection_reason = reason
    session.flush()
    record_event(
        session,
        ctx,
        action=PolicyAction.NoticeObject,
        target_type="notice",
        target_id=notice.id,
        details={
            "statement_id": notice.statement_id,
            "additions": notice.additions,
            "objection_until": notice.objection_until,
            "reason": reason,
        },
    )
    publish_event(
        session,
        organisation_id=notice.organisation_id,
        event_type=WebhookEventType.PolicyObjectionRecorded,
        data={
            "notice_id": str(notice.id),
            "statement_id": str(notice.statement_id),
            "added_subprocessors": notice.added_subprocessors,
            "added_regions": notice.added_regions,
            "objection_until": notice.objection_until.isoformat(),
            "objected_at": now.isoformat(),
            "reason": reason,
        },
    )
    return notice, True


@dataclass(frozen=True)
class Objection:
    """One organisation's objection to a statement version, as Facito's staff read it."""

    notice_id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_slug: str
    organisation_name: str
    statement_id: uuid.UUID
    added_subprocessors: list[str]
    added_regions: list[str]
    objection_until: datetime | None
    objected_at: datetime
    objected_by: str
    reason: str


def list_objections(
    source: SessionSource, *, statement_id: uuid.UUID, limit: int, cursor: str | None
) -> Page[Objection]:
    """The objections of every organisation to one published version, in notice order."""
    with cross_organisation_session(
        source, reason="Facito's staff read the organisations' objections to a statement"
    ) as session:
        statement = session.get(PrivacyStatementVersion, statement_id)
        if statement is None or statement.status is not StatementStatus.published:
            raise NotFound("no such published privacy statement version")
        keys = [OrganisationNotice.id]
        query: Select[Any] = (
            select(  # type: ignore[assignment] # a column select, paged like an entity one
                OrganisationNotice.id,
                OrganisationNotice.organisation_id,
                OrganisationNotice.statement_id,
                OrganisationNotice.additions,
                OrganisationNotice.objection_until,
                OrganisationNotice.objected_at,
                OrganisationNotice.objected_by,
                OrganisationNotice.objection_reason,
                Organisation.slug,
                Organisation.name,
            )
            .join(Organisation, Organisation.id == OrganisationNotice.organisation_id)
            .where(
                OrganisationNotice.statement_id == statement_id,
                OrganisationNotice.objected_at.is_not(None),
            )
        )
        statement_page = keyset_statement(query, keys, limit=limit, cursor=cursor, descending=False)
        rows = session.execute(statement_page).all()
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page([_objection(row) for row in rows[:limit]], next_cursor)


def _objection(row: Any) -> Objection:
    additions = row.additions or {}
    return Objection(
        notice_id=row.id,
        organisation_id=row.organisation_id,
        organisation_slug=row.slug,
        organisation_name=row.name,
        statement_id=row.statement_id,
        added_subprocessors=list(additions.get("subprocessors", [])),
        added_regions=list(additions.get("regions", [])),
        objection_until=row.objection_until,
        objected_at=row.objected_at,
        objected_by=row.objected_by or "",
        reason=row.objection_reason or "",
    )
