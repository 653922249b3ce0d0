"""When linked data expires: the retention schedule, a pure function of the effective policy.

No session, no web: retention/selection.py turns a schedule's cutoffs into SQL, the run and the
preview share that, and tests/unit/test_retention_schedule.py checks the rules here alone.

The rules, per data category (policies/categories.py):
- a record is kept `retention.days.<category>` days from ``occurred_at`` when the statement
  version or contract in force sets that key, else the catalogue's ``default_retention_days``;
- sensitive data (the record's own flag, or a sensitive category) is kept no longer than
  `retention.sensitive_max_days` (the statement: sensitive data is kept shorter);
- a soft-deleted record goes `retention.deleted_items_days` after ``deleted_at`` (the
  statement: deleted items stay up to 30 days), or earlier if its own retention ends first.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..policies.categories import CATEGORIES

SENSITIVE_MAX_DAYS = "retention.sensitive_max_days"
DELETED_ITEMS_DAYS = "retention.deleted_items_days"
CATEGORY_DAYS_PREFIX = "retention.days."


@dataclass(frozen=True)
class AppliedValue:
    """A retention value and where it comes from: a statement, a contract or the catalogue."""

    days: int
    source: str
    document_id: uuid.UUID | None = None
    document_label: str | None = None
    since: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for a deletion certificate's ``basis``."""
        return {
            "days": self.days,
            "source": self.source,
            "document_id": None if self.document_id is None else str(self.document_id),
            "document_label": self.document_label,
            "since": None if self.since is None else self.since.isoformat(),
        }


@dataclass(frozen=True)
class CategoryRule:
    """How long one category's records are kept: ``days``, and ``sensitive_days`` if flagged."""

    category: str
    days: int
    sensitive_days: int
    applied: AppliedValue


@dataclass(frozen=True)
class Cutoffs:
    """A record of the category is due at ``at`` when any of these says so (inclusive)."""

    category: str
    occurred: datetime
    # For records flagged sensitive; None when the cap changes nothing for this category.
    sensitive_occurred: datetime | None
    deleted: datetime | None


@dataclass(frozen=True)
class Schedule:
    rules: Mapping[str, CategoryRule]
    sensitive_max: AppliedValue | None
    deleted_items: AppliedValue | None

    def expiry(
        self,
        *,
        category: str,
        occurred_at: datetime,
        sensitive: bool = False,
        deleted_at: datetime | None = None,
    ) -> datetime | None:
        """When one record expires; None for a category the catalogue does not know."""
        rule = self.rules.get(category)
        if rule is None:
            return None
        expires = occurred_at + timedelta(days=rule.sensitive_days if sensitive else rule.days)
        if deleted_at is not None and self.deleted_items is not None:
            expires = min(expires, deleted_at + timedelta(days=self.deleted_items.days))
        return expires

    def cutoffs(self, at: datetime) -> list[Cutoffs]:
        """Per category, the instants before which records are due at ``at``."""
        deleted = (
            None if self.deleted_items is None else at - timedelta(days=self.deleted_items.days)
        )
        return [
            Cutoffs(
                category=rule.category,
                occurred=at - timedelta(days=rule.days),
                sensitive_occurred=(
                    at - timedelta(days=rule.sensitive_days)
                    if rule.sensitive_days < rule.days
                    else None
                ),
                deleted=deleted,
            )
            for rule in self.rules.values()
        ]

    def basis(self) -> dict[str, Any]:
        """The values applied and their provenance, for a deletion certificate."""
        return {
            "categories": {
                key: rule.applied.as_dict() | {"sensitive_days": rule.sensitive_days}
                for key, rule in self.rules.items()
            },
            "sensitive_max_days": None
            if self.sensitive_max is None
            else self.sensitive_max.as_dict(),
            "deleted_items_days": None
            if self.deleted_items is None
            else self.deleted_items.as_dict(),
        }


def is_due(
    cutoffs: Cutoffs, *, occurred_at: datetime, sensitive: bool, deleted_at: datetime | None
) -> bool:
    """Whether a record of ``cutoffs.category`` is due (selection.py says it in SQL)."""
    if occurred_at <= cutoffs.occurred:
        return True
    if (
        sensitive
        and cutoffs.sensitive_occurred is not None
        and occurred_at <= cutoffs.sensitive_occurred
    ):
        return True
    return deleted_at is not None and cutoffs.deleted is not None and deleted_at <= cutoffs.deleted


def build_schedule(values: Mapping[str, AppliedValue]) -> Schedule:
    """The schedule the policy values in force make, for every category of the catalogue.

    ``values`` maps policy keys to the value the effective policy resolved (absent when no
    document sets the key): a missing sensitive cap or deleted-items term is not applied.
    """
    cap = values.get(SENSITIVE_MAX_DAYS)
    rules: dict[str, CategoryRule] = {}
    for key, category in sorted(CATEGORIES.items()):
        applied = values.get(CATEGORY_DAYS_PREFIX + key) or AppliedValue(
            days=category.default_retention_days, source="catalogue"
        )
        sensitive_days = applied.days if cap is None else min(applied.days, cap.days)
        days = sensitive_days if category.sensitive else applied.days
        rules[key] = CategoryRule(key, days, sensitive_days, applied)
    return Schedule(rules, cap, values.get(DELETED_ITEMS_DAYS))
