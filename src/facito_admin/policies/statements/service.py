"""Reading privacy statement versions: the one in force at an instant, lists, the change log.

Writing (drafts, publication) lives in policies/statements/drafts.py, the comparison of two
versions in policies/statements/diff.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...common.pagination import Page, paginate
from ...errors import NotFound, ValidationFailed
from ..models import PrivacyStatementChange, PrivacyStatementVersion, StatementStatus
from .diff import BodyChange, ParameterChange, body_changes, parameter_changes

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


def previous_published(
    session: Session, *, statement: PrivacyStatementVersion
) -> PrivacyStatementVersion | None:
    """The published version that took effect last before ``statement`` (None: it is the first)."""
    return session.scalars(
        select(PrivacyStatementVersion)
        .where(
            PrivacyStatementVersion.status == StatementStatus.published,
            PrivacyStatementVersion.effective_from < statement.effective_from,
        )
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


def _entries(
    rows: Sequence[tuple[PrivacyStatementVersion, PrivacyStatementChange]],
) -> list[ChangeLogEntry]:
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


def change_log(
    session: Session, *, after: datetime | None = None, until: datetime | None = None
) -> list[ChangeLogEntry]:
    """Entries of the published versions (effective in ``(after, until]``), newest first."""
    query = (
        select(PrivacyStatementVersion, PrivacyStatementChange)
        .join(
            PrivacyStatementChange,
            PrivacyStatementChange.statement_id == PrivacyStatementVersion.id,
        )
        .where(PrivacyStatementVersion.status == StatementStatus.published)
        .order_by(PrivacyStatementVersion.effective_from.desc(), PrivacyStatementChange.position)
    )
    if after is not None:
        query = query.where(PrivacyStatementVersion.effective_from > after)
    if until is not None:
        query = query.where(PrivacyStatementVersion.effective_from <= until)
    return _entries([(version, change) for version, change in session.execute(query).all()])


@dataclass(frozen=True)
class StatementComparison:
    """The diff of two versions and the change-log entries that lie between them."""

    from_version: PrivacyStatementVersion
    to_version: PrivacyStatementVersion
    parameters: list[ParameterChange]
    bodies: list[BodyChange]
    changes: list[ChangeLogEntry]


def compare_statements(
    session: Session, *, from_ref: str, to_ref: str, include_drafts: bool
) -> StatementComparison:
    """What changed from one version to another (ids or labels; either order)."""
    old = find_statement(session, reference=from_ref, include_drafts=include_drafts, field="from")
    new = find_statement(session, reference=to_ref, include_drafts=include_drafts, field="to")
    earlier, later = sorted((old, new), key=lambda v: v.effective_from)
    entries: list[ChangeLogEntry] = []
    if earlier.id != later.id:
        entries = change_log(session, after=earlier.effective_from, until=later.effective_from)
        if later.status is StatementStatus.draft:
            # A draft's own entries are what it would add; it is in no published log yet.
            entries = _entries([(later, change) for change in later.changes]) + entries
    return StatementComparison(
        from_version=old,
        to_version=new,
        parameters=parameter_changes(old.parameters, new.parameters),
        bodies=body_changes(old.bodies, new.bodies, labels=(old.version_label, new.version_label)),
        changes=entries,
    )
