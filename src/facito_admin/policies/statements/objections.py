"""The organisations' objections to what a statement version adds (GDPR art. 28(2)), as
Facito's operators and DPO read them: across organisations, through the grep-able escape.

The organisations object on their notices (policies/notices/objections.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from ...common.pagination import Page, encode_cursor, keyset_statement
from ...db.session import SessionSource, cross_organisation_session
from ...errors import NotFound
from ...tenants.models import Organisation
from ..models import OrganisationNotice, PrivacyStatementVersion, StatementStatus


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
