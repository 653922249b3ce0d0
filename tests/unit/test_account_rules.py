"""Pure account rules: comparison keys, search patterns, the day a minor becomes an adult."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from facito_admin.accounts import rules
from facito_admin.policies.effective.defaults import PolicyKey
from facito_admin.policies.parameters import PARAMETERS


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("Ann@Example.COM", "ann@example.com"), ("  Straße ", "strasse"), ("ÉMILE", "émile")],
)
def test_keys_are_trimmed_and_casefolded(raw: str, stored: str):
    assert rules.key(raw) == stored


@pytest.mark.parametrize(
    ("text", "pattern"),
    [("Ann", "%ann%"), ("100%", "%100\\%%"), ("a_b", "%a\\_b%"), ("x\\y", "%x\\\\y%")],
)
def test_search_text_is_escaped_for_like(text: str, pattern: str):
    assert rules.search_pattern(text) == pattern


@pytest.mark.parametrize(
    ("born", "age", "adult"),
    [
        (date(2010, 5, 17), 16, date(2026, 5, 17)),
        (date(2008, 2, 29), 16, date(2024, 2, 29)),
        (date(2008, 2, 29), 15, date(2023, 3, 1)),
        (date(2000, 12, 31), 18, date(2018, 12, 31)),
    ],
)
def test_a_minor_becomes_an_adult_on_the_birthday_or_the_first_of_march(born, age, adult):
    assert rules.adult_on(born, age) == adult


def test_the_grace_period_counts_days_from_deletion():
    deleted = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert rules.purge_after(deleted, 30) == deleted + timedelta(days=30)


def test_the_keys_services_read_are_policy_parameters():
    assert set(PolicyKey) <= set(PARAMETERS)
