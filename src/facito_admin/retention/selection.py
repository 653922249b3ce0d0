"""What is due and what holds keep, in SQL: the one code path of the run and the preview.

The pure schedule (schedule.py) gives per category the cutoffs; here they become predicates
over data_records, and legal holds become the exclusion: an organisation-wide hold keeps
everything, an account hold that account's records, an account+category hold that account's
records of that category (GDPR art. 17(3)(b),(e)). The run deletes in batches what
:func:`purgeable` selects; the preview counts it with :func:`due_counts`.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, false, func, or_, select
from sqlalchemy.orm import Session

from ..policies.effective.service import effective_policy
from ..user_data.models import DataRecord
from .models import LegalHold, LegalHoldScope
from .schedule import AppliedValue, Cutoffs, Schedule, build_schedule


@dataclass(frozen=True)
class PolicyBasis:
    """The schedule in force at an instant, and the documents it was resolved from."""

    at: datetime
    schedule: Schedule
    statement_version_id: uuid.UUID | None
    statement_version_label: str | None
    contract_id: uuid.UUID | None
    contract_reference: str | None


def load_schedule(session: Session, *, at: datetime) -> PolicyBasis:
    """The retention schedule of the session's organisation, by its effective policy at ``at``."""
    policy = effective_policy(session, at=at)
    values: dict[str, AppliedValue] = {}
    for key, resolved in policy.values.items():
        if not key.startswith("retention.") or isinstance(resolved.value, bool):
            continue
        if isinstance(resolved.value, int):
            values[key] = AppliedValue(
                days=resolved.value,
                source=resolved.source.value,
                document_id=resolved.document_id,
                document_label=resolved.document_label,
                since=resolved.since,
            )
    statement, contract = policy.statement, policy.contract
    return PolicyBasis(
        at=at,
        schedule=build_schedule(values),
        statement_version_id=None if statement is None else statement.version_id,
        statement_version_label=None if statement is None else statement.version_label,
        contract_id=None if contract is None else contract.contract_id,
        contract_reference=None if contract is None else contract.reference,
    )


def due_clause(cutoffs: Cutoffs) -> ColumnElement[bool]:
    """Records of the category due by the cutoffs (schedule.is_due, in SQL)."""
    r = DataRecord
    terms: list[ColumnElement[bool]] = [r.occurred_at <= cutoffs.occurred]
    if cutoffs.sensitive_occurred is not None:
        terms.append(and_(r.sensitive.is_(True), r.occurred_at <= cutoffs.sensitive_occurred))
    if cutoffs.deleted is not None:
        terms.append(and_(r.deleted_at.is_not(None), r.deleted_at <= cutoffs.deleted))
    return and_(r.category == cutoffs.category, or_(*terms))


def _covers(hold: type[LegalHold]) -> ColumnElement[bool]:
    """The active hold ``hold`` covers the record (account, or account and its category)."""
    return and_(
        hold.released_at.is_(None),
        hold.account_id == DataRecord.account_id,
        or_(hold.category.is_(None), hold.category == DataRecord.category),
    )


def held_clause() -> ColumnElement[bool]:
    """Records an active account or account+category hold covers."""
    return exists(select(LegalHold.id).where(_covers(LegalHold)).correlate(DataRecord))


def organisation_holds(session: Session) -> list[uuid.UUID]:
    """Ids of the active organisation-wide holds: while one exists, nothing is purged."""
    return list(
        session.scalars(
            select(LegalHold.id)
            .where(LegalHold.scope == LegalHoldScope.organisation, LegalHold.released_at.is_(None))
            .order_by(LegalHold.id)
        )
    )


def purgeable(cutoffs: Cutoffs, *, organisation_held: bool) -> ColumnElement[bool]:
    """Records of the category that are due and that no hold keeps."""
    if organisation_held:
        return false()
    return and_(due_clause(cutoffs), ~held_clause())


def purge_batch(session: Session, cutoffs: Cutoffs, *, limit: int) -> int:
    """Delete up to ``limit`` purgeable records of one category, set-based; how many went."""
    ids = (
        select(DataRecord.id)
        .where(purgeable(cutoffs, organisation_held=False))
        .limit(limit)
        .scalar_subquery()
    )
    result: Any = session.execute(
        delete(DataRecord)
        .where(DataRecord.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


@dataclass(frozen=True)
class DueCounts:
    """What is due at an instant: what may go per category, what holds keep and by which."""

    removable: dict[str, int]
    kept: dict[str, int]
    kept_by_hold: dict[str, int]

    def kept_by_holds(self) -> dict[str, Any]:
        """JSON-ready, as a deletion certificate stores it."""
        return {
            "total": sum(self.kept.values()),
            "categories": self.kept,
            "holds": self.kept_by_hold,
        }


def due_counts(session: Session, cutoffs: list[Cutoffs]) -> DueCounts:
    """Count, per category, the due records that may go and those holds keep, and per hold."""
    if not cutoffs:
        return DueCounts({}, {}, {})
    due_any = or_(*(due_clause(c) for c in cutoffs))
    org_holds = organisation_holds(session)

    def per_category(*where: ColumnElement[bool]) -> Counter[str]:
        rows = session.execute(
            select(DataRecord.category, func.count()).where(*where).group_by(DataRecord.category)
        ).all()
        return Counter({category: int(count) for category, count in rows})

    due = per_category(due_any)
    kept = due if org_holds else per_category(due_any, held_clause())
    removable = Counter() if org_holds else due - kept
    by_hold: dict[str, int] = {}
    if org_holds:
        total = sum(kept.values())
        by_hold = {str(hold_id): total for hold_id in org_holds}
    hold = LegalHold
    for hold_id, count in session.execute(
        select(hold.id, func.count(DataRecord.id))
        .select_from(DataRecord)
        .join(hold, _covers(hold))
        .where(due_any)
        .group_by(hold.id)
    ).all():
        by_hold[str(hold_id)] = count
    return DueCounts(dict(sorted(removable.items())), dict(sorted(kept.items())), by_hold)
