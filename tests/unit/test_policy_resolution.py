"""The effective policy, pure: statement in force ⊕ contract in force, the contract wins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facito_admin.policies.parameters import PARAMETER_DEFAULTS, STATEMENT_2019_VALUES
from facito_admin.policies.resolution import (
    ContractTerms,
    Source,
    StatementTerms,
    resolve,
)

EPOCH = datetime(2019, 1, 1, tzinfo=UTC)
KEYS = [
    "dsr.response_days",
    "children.consent_age",
    "retention.days.content.files",
    "audit.retention_days",
]


def instants() -> st.SearchStrategy[datetime]:
    return st.integers(min_value=0, max_value=4000).map(lambda d: EPOCH + timedelta(days=d))


def values() -> st.SearchStrategy[dict[str, int]]:
    return st.dictionaries(st.sampled_from(KEYS), st.integers(min_value=1, max_value=60))


@st.composite
def statements(draw: st.DrawFn) -> list[StatementTerms]:
    starts = draw(st.lists(instants(), max_size=4, unique=True))
    return [
        StatementTerms(uuid.uuid4(), f"v{start:%Y-%m-%d}", start, draw(values()))
        for start in starts
    ]


@st.composite
def contracts(draw: st.DrawFn) -> list[ContractTerms]:
    found: list[ContractTerms] = []
    for n in range(draw(st.integers(min_value=0, max_value=4))):
        start = draw(instants())
        length = draw(st.none() | st.integers(min_value=1, max_value=1500))
        end = None if length is None else start + timedelta(days=length)
        found.append(ContractTerms(uuid.uuid4(), f"C-{n}", start, end, draw(values())))
    return found


@settings(max_examples=300, deadline=None)
@given(statements(), contracts(), instants())
def test_a_contract_value_always_wins(statements, contracts, at):
    policy = resolve(statements, contracts, at=at)
    if policy.contract is None:
        return
    for key, value in policy.contract.overrides.items():
        resolved = policy.values[key]
        assert resolved.value == value
        assert resolved.source is Source.contract
        assert resolved.contract_reference == policy.contract.reference
        assert resolved.document_id == policy.contract.contract_id
        assert resolved.since == policy.contract.effective_from


@settings(max_examples=300, deadline=None)
@given(statements(), contracts(), instants())
def test_without_a_contract_in_force_every_value_is_the_statements(statements, contracts, at):
    in_force = [c for c in contracts if c.in_force(at)]
    policy = resolve(statements, [] if in_force else contracts, at=at)
    assert policy.contract is None
    if policy.statement is None:
        assert policy.values == {}
        return
    # A statement that leaves a key with a default out implies the default.
    implied = PARAMETER_DEFAULTS | dict(policy.statement.parameters)
    assert {k: v.value for k, v in policy.values.items()} == implied
    for resolved in policy.values.values():
        assert resolved.source is Source.statement
        assert resolved.statement_version == policy.statement.version_label
        assert resolved.since == policy.statement.effective_from
        assert resolved.since <= at


@settings(max_examples=300, deadline=None)
@given(statements(), contracts(), instants(), statements(), contracts())
def test_the_result_depends_only_on_the_documents_in_force_at_that_instant(
    statements, contracts, at, extra_statements, extra_contracts
):
    policy = resolve(statements, contracts, at=at)
    # Documents that do not govern `at`: statements superseded before it or starting after it,
    # contracts not in force at it. Adding or removing them changes nothing.
    governing = policy.statement.effective_from if policy.statement else None
    irrelevant_statements = [
        s
        for s in extra_statements
        if s.effective_from > at or (governing is not None and s.effective_from < governing)
    ]
    irrelevant_contracts = [c for c in extra_contracts if not c.in_force(at)]
    widened = resolve(statements + irrelevant_statements, contracts + irrelevant_contracts, at=at)
    assert widened == policy
    only_in_force = resolve(
        [policy.statement] if policy.statement else [],
        [policy.contract] if policy.contract else [],
        at=at,
    )
    assert only_in_force == policy


@settings(max_examples=200, deadline=None)
@given(statements(), contracts(), instants())
def test_every_key_of_either_document_in_force_appears_once(statements, contracts, at):
    policy = resolve(statements, contracts, at=at)
    implied = PARAMETER_DEFAULTS | dict(policy.statement.parameters) if policy.statement else {}
    expected = set(implied) | set(policy.contract.overrides if policy.contract else ())
    assert set(policy.values) == expected


STATEMENT = StatementTerms(
    uuid.uuid4(), "2019-03-08", datetime(2019, 3, 8, tzinfo=UTC), STATEMENT_2019_VALUES
)


def _contract(start: datetime, end: datetime | None, **overrides: int) -> ContractTerms:
    return ContractTerms(uuid.uuid4(), "C-2027-01", start, end, overrides)


def test_a_contract_shortens_the_response_days_from_its_start_until_its_end():
    start, end = datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    contract = _contract(start, end, **{"dsr.response_days": 14})
    before = resolve([STATEMENT], [contract], at=start - timedelta(microseconds=1))
    during = resolve([STATEMENT], [contract], at=start)
    after = resolve([STATEMENT], [contract], at=end)
    assert before.value("dsr.response_days") == 30
    assert before.values["dsr.response_days"].statement_version == "2019-03-08"
    assert during.value("dsr.response_days") == 14
    assert during.values["dsr.response_days"].contract_reference == "C-2027-01"
    assert during.values["dsr.response_days"].since == start
    # Keys the contract leaves alone keep the statement's value and provenance.
    assert during.values["children.consent_age"].source is Source.statement
    assert after.value("dsr.response_days") == 30


def test_a_per_category_retention_key_of_a_contract_appears_beside_the_statements_keys():
    contract = _contract(STATEMENT.effective_from, None, **{"retention.days.content.files": 90})
    policy = resolve([STATEMENT], [contract], at=datetime(2026, 1, 1, tzinfo=UTC))
    assert policy.value("retention.days.content.files") == 90
    assert set(STATEMENT_2019_VALUES) < set(policy.values)


def test_the_latest_statement_that_took_effect_governs():
    newer = StatementTerms(
        uuid.uuid4(),
        "2026-06-01",
        datetime(2026, 6, 1, tzinfo=UTC),
        {**STATEMENT_2019_VALUES, "dsr.response_days": 28},
    )
    assert (
        resolve([STATEMENT, newer], [], at=datetime(2026, 5, 31, tzinfo=UTC)).value(
            "dsr.response_days"
        )
        == 30
    )
    assert (
        resolve([newer, STATEMENT], [], at=datetime(2026, 6, 1, tzinfo=UTC)).value(
            "dsr.response_days"
        )
        == 28
    )


def test_before_any_statement_nothing_is_in_force():
    policy = resolve([STATEMENT], [], at=datetime(2019, 3, 7, tzinfo=UTC))
    assert policy.statement is None
    assert policy.values == {}


def test_resolution_needs_an_aware_instant():
    with pytest.raises(ValueError, match="aware"):
        resolve([STATEMENT], [], at=datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_a_statement_that_predates_a_key_implies_its_default_and_a_contract_overrides_it():
    at = datetime(2026, 1, 1, tzinfo=UTC)
    implied = resolve([STATEMENT], [], at=at)
    assert implied.value("accounts.verified_domains_only") is False
    assert implied.values["accounts.verified_domains_only"].statement_version == "2019-03-08"
    contract = _contract(STATEMENT.effective_from, None, **{"accounts.verified_domains_only": True})
    overridden = resolve([STATEMENT], [contract], at=at)
    assert overridden.value("accounts.verified_domains_only") is True
    assert overridden.values["accounts.verified_domains_only"].source is Source.contract
