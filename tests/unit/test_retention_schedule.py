"""The retention schedule alone: per category days, the sensitive cap, the deleted-items clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facito_admin.policies.categories import CATEGORIES
from facito_admin.retention.schedule import AppliedValue, build_schedule, is_due

AT = datetime(2026, 6, 1, tzinfo=UTC)
STATEMENT = {
    "retention.sensitive_max_days": AppliedValue(365, "statement", document_label="2019"),
    "retention.deleted_items_days": AppliedValue(30, "statement", document_label="2019"),
}


def test_every_catalogue_category_gets_its_default_retention_without_a_policy_value():
    schedule = build_schedule({})
    assert set(schedule.rules) == set(CATEGORIES)
    for key, rule in schedule.rules.items():
        assert rule.days == CATEGORIES[key].default_retention_days
        assert rule.applied.source == "catalogue"


def test_a_contract_value_for_a_category_replaces_the_default():
    values = STATEMENT | {
        "retention.days.usage.device": AppliedValue(30, "contract", document_label="FAC-1")
    }
    rule = build_schedule(values).rules["usage.device"]
    assert (rule.days, rule.applied.source, rule.applied.document_label) == (
        30,
        "contract",
        "FAC-1",
    )


def test_sensitive_data_is_capped_by_the_sensitive_maximum():
    schedule = build_schedule(STATEMENT)
    # commerce.payment is a sensitive category (2555 days by default): capped for every record.
    assert schedule.rules["commerce.payment"].days == 365
    # identity.contact is not (730 days): only records flagged sensitive are capped.
    contact = schedule.rules["identity.contact"]
    assert (contact.days, contact.sensitive_days) == (730, 365)
    occurred = AT - timedelta(days=400)
    assert schedule.expiry(
        category="identity.contact", occurred_at=occurred
    ) == occurred + timedelta(days=730)
    assert schedule.expiry(
        category="identity.contact", occurred_at=occurred, sensitive=True
    ) == occurred + timedelta(days=365)


def test_a_soft_deleted_record_expires_after_the_deleted_items_days_or_its_own_retention():
    schedule = build_schedule(STATEMENT)
    occurred = AT - timedelta(days=10)
    deleted = AT - timedelta(days=5)
    assert schedule.expiry(
        category="identity.contact", occurred_at=occurred, deleted_at=deleted
    ) == deleted + timedelta(days=30)
    # Its own retention ends first: that counts.
    old = AT - timedelta(days=729)
    assert schedule.expiry(
        category="identity.contact", occurred_at=old, deleted_at=deleted
    ) == old + timedelta(days=730)


def test_an_unknown_category_never_expires():
    assert build_schedule(STATEMENT).expiry(category="nope", occurred_at=AT) is None


@pytest.mark.parametrize("sensitive", [False, True])
@pytest.mark.parametrize("deleted_days_ago", [None, 0, 29, 30, 31])
@pytest.mark.parametrize("age_days", [0, 89, 90, 91, 364, 365, 366, 729, 730, 731])
@pytest.mark.parametrize("category", ["usage.error_reports", "identity.contact", "content.files"])
def test_the_cutoffs_say_due_exactly_when_the_expiry_has_come(
    category, age_days, deleted_days_ago, sensitive
):
    schedule = build_schedule(STATEMENT)
    occurred = AT - timedelta(days=age_days)
    deleted = None if deleted_days_ago is None else AT - timedelta(days=deleted_days_ago)
    [cutoffs] = [c for c in schedule.cutoffs(AT) if c.category == category]
    expiry = schedule.expiry(
        category=category, occurred_at=occurred, sensitive=sensitive, deleted_at=deleted
    )
    assert expiry is not None
    due = is_due(cutoffs, occurred_at=occurred, sensitive=sensitive, deleted_at=deleted)
    assert due == (expiry <= AT)


def test_the_basis_names_every_value_applied_and_its_source():
    basis = build_schedule(STATEMENT).basis()
    assert basis["deleted_items_days"]["days"] == 30
    assert basis["sensitive_max_days"]["source"] == "statement"
    assert basis["categories"]["usage.error_reports"]["days"] == 90
