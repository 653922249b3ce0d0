"""Reading privacy statement versions: the one in force at an instant, lists, the change log.

Writing (drafts, publication) lives in policies/statement_drafts.py, the comparison of two
versions in policies/statement_diff.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..common.pagination import Page, paginate
from ..errors import NotFound, ValidationFailed
from .statement_models import PrivacyStatementChange, PrivacyStatementVersion, StatementStatus

# The statement of 8 March 2019, seeded by migration 0006 (which repeats this id).
SEED_STATEMENT_ID = uuid.UUID("0169a5c0-0000-7000-8000-000000000001")
SEED_STATEMENT_LABEL = "2019-03-08"


def _require_aware(at: datetime, field: str = "at") -> None:
    if at.tzinfo is None:
        raise ValidationFailed(
            "instants need a timezone", errors={field: ["give a timezone, e.g. Z"]}
        )


def statement_in_force(session: Session, *, at: datetime) -> PrivacyStatementVersion | None:
    """The published version with the latest ``effective_from`` at or before ``at``, if any."""
    _require_aware(at)
    return session.scalars(
        select(PrivacyStatementVersion)
        .where(
            PrivacyStatementVersion.status == StatementStatus.published,
            PrivacyStatementVersion.effective_from <= at,
        )
        .order_by(PrivacyStatementVersion.effective_from.desc())
        .limit(1)
    ).first()


def latest_published(session: Session) -> PrivacyStatementVersion | None:
    """The published version that takes effect last (possibly in the future)."""
    return session.scalars(
        select(PrivacyStatementVersion)
        .where(PrivacyStatementVersion.status == StatementStatus.published)
        .order_by(PrivacyStatementVersion.effective_from.desc())
        .limit(1)
    ).first()


def get_statement(
    session: Session, *, statement_id: uuid.UUID, include_drafts: bool
) -> PrivacyStatementVersion:
    """One version by id; a draft is a 404 for a caller who may not see drafts."""
    statement = session.get(PrivacyStatementVersion, statement_id)
    if statement is None or (statement.status is StatementStatus.draft and not include_drafts):
        raise NotFound("no such privacy statement version")
    return statement


def find_statement(
    session: Session, *, reference: str, include_drafts: bool, field: str
) -> PrivacyStatementVersion:
    """A version named by its id or its version label (the diff's `from` and `to`)."""
    query = select(PrivacyStatementVersion)
    try:
        query = query.where(PrivacyStatementVersion.id == uuid.UUID(reference))
    except ValueError:
        query = query.where(PrivacyStatementVersion.version_label == reference)
    statement = session.scalars(query).first()
    if statement is None or (statement.status is StatementStatus.draft and not include_drafts):
        raise NotFound(f"no privacy statement version {reference!r} ({field})")
    return statement


def list_statements(
    session: Session,
    *,
    include_drafts: bool,
    status: StatementStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[PrivacyStatementVersion]:
    """Versions in creation order (ids are time-ordered); drafts only for those who may see them."""
    query = select(PrivacyStatementVersion)
    if not include_drafts:
        query = query.where(PrivacyStatementVersion.status == StatementStatus.published)
    if status is not None:
        query = query.where(PrivacyStatementVersion.status == status)
    return paginate(session, query, keys=[PrivacyStatementVersion.id], limit=limit, cursor=cursor)


@dataclass(frozen=True)
class ChangeLogEntry:
    """One line of the "wijzigingsoverzicht": an entry with the version it belongs to."""

    statement_id: uuid.UUID
    version_label: str
    last_updated: date
    published_at: datetime | None
    effective_from: datetime
    position: int
    summary: str
    reason: str
    material: bool


def change_log(session: Session) -> list[ChangeLogEntry]:
    """Every change-log entry of the published versions, newest version first."""
    rows = session.execute(
        select(PrivacyStatementVersion, PrivacyStatementChange)
        .join(
            PrivacyStatementChange,
            PrivacyStatementChange.statement_id == PrivacyStatementVersion.id,
        )
        .where(PrivacyStatementVersion.status == StatementStatus.published)
        .order_by(PrivacyStatementVersion.effective_from.desc(), PrivacyStatementChange.position)
    ).all()
    return [
        ChangeLogEntry(
            statement_id=version.id,
            version_label=version.version_label,
            last_updated=version.last_updated,
            published_at=version.published_at,
            effective_from=version.effective_from,
            position=change.position,
            summary=change.summary,
            reason=change.reason,
            material=change.material,
        )
        for version, change in rows
    ]
