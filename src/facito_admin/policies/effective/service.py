"""The effective policy of the session's organisation, read from the database.

Loads the documents in force (the statement version, the organisation's contract) and lets
the pure :mod:`.resolution` combine them; :func:`.defaults.policy_value` and the residency
rules read through here. Statement versions are global (policies/statements/service.py), contracts
belong to the organisation (policies/contracts/).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...db.base import utcnow
from ...db.tenancy import session_organisation
from ..models import Contract, PrivacyStatementVersion, StatementStatus
from ..residency import ResidencyFinding, residency_findings
from ..resolution import ContractTerms, EffectivePolicy, StatementTerms, resolve
from ..statements.service import statement_in_force


def _terms(version: PrivacyStatementVersion) -> StatementTerms:
    return StatementTerms(
        version_id=version.id,
        version_label=version.version_label,
        effective_from=version.effective_from,
        parameters=dict(version.parameters),
    )


def statement_terms(session: Session, *, at: datetime) -> StatementTerms | None:
    """The privacy statement version in force at ``at`` (None before the first one)."""
    with session.no_autoflush:
        version = statement_in_force(session, at=at)
    return None if version is None else _terms(version)


def upcoming_statement_terms(session: Session, *, after: datetime) -> list[StatementTerms]:
    """Published statement versions that take effect after ``after``."""
    with session.no_autoflush:
        versions = session.scalars(
            select(PrivacyStatementVersion).where(
                PrivacyStatementVersion.status == StatementStatus.published,
                PrivacyStatementVersion.effective_from > after,
            )
        ).all()
    return [_terms(version) for version in versions]


def contract_terms(contract: Contract) -> ContractTerms:
    """The plain terms of a stored contract, as the resolution takes them."""
    return ContractTerms(
        contract_id=contract.id,
        reference=contract.reference,
        effective_from=contract.effective_from,
        effective_to=contract.effective_to,
        overrides=dict(contract.overrides),
    )


def contract_in_force(session: Session, *, at: datetime) -> Contract | None:
    """The session organisation's contract in force at ``at``; none without an organisation."""
    if session_organisation(session) is None:
        return None
    query = (
        select(Contract)
        .where(
            Contract.effective_from <= at,
            or_(Contract.effective_to.is_(None), Contract.effective_to > at),
        )
        # Contracts never overlap; the order only makes a stray overlap deterministic and
        # agree with resolution.contract_in_force.
        .order_by(Contract.effective_from.desc(), Contract.id.desc())
        .limit(1)
    )
    # Callers ask in the middle of their own changes (a deletion reads its grace period before
    # setting it): flushing those half-made rows here would trip their constraints. Contract
    # writes flush themselves before anything reads the policy.
    with session.no_autoflush:
        return session.scalars(query).first()


def effective_policy(session: Session, *, at: datetime | None = None) -> EffectivePolicy:
    """Statement in force ⊕ the organisation's contract in force at ``at`` (default: now)."""
    at = at or utcnow()
    statement = statement_terms(session, at=at)
    contract = contract_in_force(session, at=at)
    return resolve(
        [statement] if statement else [],
        [contract_terms(contract)] if contract else [],
        at=at,
    )


@dataclass(frozen=True)
class ResidencyState:
    """How the organisation's regions stand against its effective policy, now and later."""

    status: str  # valid, invalid (now) or becomes_invalid (at a known future instant)
    findings: list[ResidencyFinding]

    def problems(self) -> list[dict[str, Any]]:
        """Every problem, JSON-ready, with the instant it starts."""
        return [
            problem.as_dict() | {"since": finding.since}
            for finding in self.findings
            for problem in finding.problems
        ]


def residency_state(
    session: Session, *, primary_region: str, backup_region: str, now: datetime | None = None
) -> ResidencyState:
    """Check two regions against the session organisation's policy from now on."""
    now = now or utcnow()
    statements = upcoming_statement_terms(session, after=now)
    current = statement_terms(session, at=now)
    if current is not None:
        statements.append(current)
    contracts: list[ContractTerms] = []
    if session_organisation(session) is not None:
        # Contracts that ended are history; the rest may still govern (a handful per org).
        rows = session.scalars(
            select(Contract).where(
                or_(Contract.effective_to.is_(None), Contract.effective_to > now)
            )
        )
        contracts = [contract_terms(row) for row in rows]
    findings = residency_findings(
        statements,
        contracts,
        primary_region=primary_region,
        backup_region=backup_region,
        start=now,
    )
    if not findings:
        return ResidencyState("valid", findings)
    return ResidencyState("invalid" if findings[0].since <= now else "becomes_invalid", findings)
