"""Whether an organisation's primary and backup regions satisfy its effective policy (pure).

Three keys bound residency: ``residency.allowed_regions`` (both regions must be listed),
``residency.eea_only`` (both regions inside the EEA: transfers outside need safeguards,
GDPR ch. V) and ``subprocessors.allowed`` (the region's subprocessor must be allowed). Each
broken rule is one problem naming the field, the rule and the document that set the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .regions import region
from .resolution import ContractTerms, EffectivePolicy, ResolvedValue, StatementTerms, resolve

RESIDENCY_KEYS = ("residency.allowed_regions", "residency.eea_only", "subprocessors.allowed")


@dataclass(frozen=True)
class ResidencyProblem:
    field: str  # primary_region or backup_region
    region: str
    rule: str  # the policy key the region breaks
    detail: str
    rule_source: ResolvedValue

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for problem details, audit events and the organisation resource."""
        source = self.rule_source
        return {
            "field": self.field,
            "region": self.region,
            "rule": self.rule,
            "detail": self.detail,
            "source": source.source.value,
            "document_id": str(source.document_id) if source.document_id else None,
            "document": source.document_label,
        }


def residency_problems(
    policy: EffectivePolicy, *, primary_region: str, backup_region: str
) -> list[ResidencyProblem]:
    """The rules of ``policy`` the two regions break (empty: the residency is valid)."""
    problems: list[ResidencyProblem] = []
    allowed = policy.values.get("residency.allowed_regions")
    eea_only = policy.values.get("residency.eea_only")
    subprocessors = policy.values.get("subprocessors.allowed")
    for field, code in (("primary_region", primary_region), ("backup_region", backup_region)):
        known = region(code)
        if allowed is not None and isinstance(allowed.value, list) and code not in allowed.value:
            problems.append(
                ResidencyProblem(
                    field, code, allowed.key, f"{code} is not an allowed region", allowed
                )
            )
        if eea_only is not None and eea_only.value is True and known is not None and not known.eea:
            problems.append(
                ResidencyProblem(
                    field,
                    code,
                    eea_only.key,
                    f"{code} ({known.country}) is outside the EEA",
                    eea_only,
                )
            )
        if (
            subprocessors is not None
            and isinstance(subprocessors.value, list)
            and known is not None
            and known.subprocessor not in subprocessors.value
        ):
            problems.append(
                ResidencyProblem(
                    field,
                    code,
                    subprocessors.key,
                    f"{code} is hosted by {known.subprocessor}, not an allowed subprocessor",
                    subprocessors,
                )
            )
    return problems


@dataclass(frozen=True)
class ResidencyFinding:
    """The problems of a residency from ``since`` on, until the documents in force change."""

    since: datetime
    problems: tuple[ResidencyProblem, ...]


def residency_findings(
    statements: Sequence[StatementTerms],
    contracts: Sequence[ContractTerms],
    *,
    primary_region: str,
    backup_region: str,
    start: datetime,
) -> list[ResidencyFinding]:
    """Where the residency breaks the policy from ``start`` on: now, and at every known future
    instant at which a statement or contract starts or ends (empty: valid throughout)."""
    instants = {start}
    for statement in statements:
        instants.add(statement.effective_from)
    for contract in contracts:
        instants.add(contract.effective_from)
        if contract.effective_to is not None:
            instants.add(contract.effective_to)
    findings: list[ResidencyFinding] = []
    previous: tuple[ResidencyProblem, ...] = ()
    for instant in sorted(i for i in instants if i >= start):
        policy = resolve(statements, contracts, at=instant)
        problems = tuple(
            residency_problems(policy, primary_region=primary_region, backup_region=backup_region)
        )
        # One finding per change of the problems, not per document boundary.
        if problems and problems != previous:
            findings.append(ResidencyFinding(instant, problems))
        previous = problems
    return findings
