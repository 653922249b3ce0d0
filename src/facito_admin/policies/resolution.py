"""The effective policy: the statement version in force ⊕ the contract in force, contract wins.

The statement: "in case of a conflict between this privacy statement and the terms of a
contract between a customer and Facito, the contract's terms take precedence". This module
makes that rule a pure function of plain values (no session, no web), so that it is tested
alone, property by property (tests/unit/test_policy_resolution.py). Every resolved value says
where it comes from and since when that document governs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .parameters import PARAMETER_DEFAULTS, PolicyValue


class Source(StrEnum):
    statement = "statement"
    contract = "contract"


@dataclass(frozen=True)
class StatementTerms:
    """One privacy statement version: it governs from ``effective_from`` until the next one."""

    version_id: uuid.UUID | None
    version_label: str
    effective_from: datetime
    parameters: Mapping[str, PolicyValue]


@dataclass(frozen=True)
class ContractTerms:
    """One contract of an organisation: in force on ``[effective_from, effective_to)``."""

    contract_id: uuid.UUID
    reference: str
    effective_from: datetime
    effective_to: datetime | None
    overrides: Mapping[str, PolicyValue]

    def in_force(self, at: datetime) -> bool:
        """Whether the contract governs the instant ``at``."""
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)


@dataclass(frozen=True)
class ResolvedValue:
    """A value and its provenance: which document set it, and since when that document governs."""

    key: str
    value: PolicyValue
    source: Source
    document_id: uuid.UUID | None
    # The statement's version label or the contract's reference.
    document_label: str
    since: datetime

    @property
    def statement_version(self) -> str | None:
        """The statement version's label, when the statement set the value."""
        return self.document_label if self.source is Source.statement else None

    @property
    def contract_reference(self) -> str | None:
        """The contract's reference, when a contract set the value."""
        return self.document_label if self.source is Source.contract else None


@dataclass(frozen=True)
class EffectivePolicy:
    at: datetime
    statement: StatementTerms | None
    contract: ContractTerms | None
    values: Mapping[str, ResolvedValue] = field(default_factory=dict)

    def value(self, key: str) -> PolicyValue | None:
        """The value of ``key``, or None when no document in force sets it."""
        resolved = self.values.get(key)
        return None if resolved is None else resolved.value


def statement_in_force(
    statements: Iterable[StatementTerms], *, at: datetime
) -> StatementTerms | None:
    """The statement with the latest ``effective_from`` not after ``at``."""
    candidates = [s for s in statements if s.effective_from <= at]
    # Ties cannot happen between published versions; the label keeps the choice deterministic.
    return max(candidates, key=lambda s: (s.effective_from, s.version_label), default=None)


def contract_in_force(contracts: Iterable[ContractTerms], *, at: datetime) -> ContractTerms | None:
    """The contract governing ``at``: the one that started last, should several overlap.

    Contracts of one organisation never overlap (the service refuses it); choosing the latest
    start keeps the answer defined, and deterministic, for any input.
    """
    candidates = [c for c in contracts if c.in_force(at)]
    return max(candidates, key=lambda c: (c.effective_from, str(c.contract_id)), default=None)


def resolve(
    statements: Iterable[StatementTerms],
    contracts: Iterable[ContractTerms],
    *,
    at: datetime,
) -> EffectivePolicy:
    """Every key set by the statement or the contract in force at ``at``, the contract's winning."""
    if at.tzinfo is None:
        raise ValueError("resolve at an aware instant")
    statement = statement_in_force(statements, at=at)
    contract = contract_in_force(contracts, at=at)
    values: dict[str, ResolvedValue] = {}
    if statement is not None:
        # A version published before a key existed implies the key's default.
        for key, value in {**PARAMETER_DEFAULTS, **statement.parameters}.items():
            values[key] = ResolvedValue(
                key,
                value,
                Source.statement,
                statement.version_id,
                statement.version_label,
                statement.effective_from,
            )
    if contract is not None:
        for key, value in contract.overrides.items():
            values[key] = ResolvedValue(
                key,
                value,
                Source.contract,
                contract.contract_id,
                contract.reference,
                contract.effective_from,
            )
    return EffectivePolicy(
        at=at, statement=statement, contract=contract, values=dict(sorted(values.items()))
    )
