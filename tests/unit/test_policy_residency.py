"""Residency against the effective policy (pure): which rule a region breaks, and from when."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from facito_admin.policies.parameters import STATEMENT_2019_VALUES
from facito_admin.policies.residency import residency_findings, residency_problems
from facito_admin.policies.resolution import ContractTerms, StatementTerms, resolve

NOW = datetime(2026, 11, 25, tzinfo=UTC)
STATEMENT = StatementTerms(
    uuid.uuid4(), "2019-03-08", datetime(2019, 3, 8, tzinfo=UTC), STATEMENT_2019_VALUES
)


def _contract(start: datetime, **overrides: object) -> ContractTerms:
    return ContractTerms(uuid.uuid4(), "C-EEA", start, None, overrides)  # type: ignore[arg-type]


def test_the_statement_allows_every_region_of_the_registry():
    policy = resolve([STATEMENT], [], at=NOW)
    assert residency_problems(policy, primary_region="azure-us", backup_region="azure-au") == []


def test_an_eea_only_contract_names_each_region_outside_the_eea():
    policy = resolve([STATEMENT], [_contract(NOW, **{"residency.eea_only": True})], at=NOW)
    problems = residency_problems(policy, primary_region="azure-us", backup_region="azure-de")
    assert [(p.field, p.rule) for p in problems] == [("primary_region", "residency.eea_only")]
    assert problems[0].rule_source.contract_reference == "C-EEA"


def test_allowed_regions_and_subprocessors_each_bound_both_regions():
    contract = _contract(
        NOW,
        **{
            "residency.allowed_regions": ["transip-nl-delft", "transip-nl-amsterdam"],
            "subprocessors.allowed": ["transip"],
        },
    )
    policy = resolve([STATEMENT], [contract], at=NOW)
    problems = residency_problems(
        policy, primary_region="transip-nl-delft", backup_region="azure-nl"
    )
    assert {(p.field, p.rule) for p in problems} == {
        ("backup_region", "residency.allowed_regions"),
        ("backup_region", "subprocessors.allowed"),
    }


def test_a_contract_starting_later_makes_the_residency_invalid_from_its_start():
    start = datetime(2027, 1, 1, tzinfo=UTC)
    findings = residency_findings(
        [STATEMENT],
        [_contract(start, **{"residency.eea_only": True})],
        primary_region="azure-us",
        backup_region="azure-de",
        start=NOW,
    )
    assert [f.since for f in findings] == [start]
    assert findings[0].problems[0].region == "azure-us"


def test_a_valid_residency_has_no_findings():
    findings = residency_findings(
        [STATEMENT],
        [_contract(NOW, **{"residency.eea_only": True})],
        primary_region="azure-nl",
        backup_region="azure-de",
        start=NOW,
    )
    assert findings == []
