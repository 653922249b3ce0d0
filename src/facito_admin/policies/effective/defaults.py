"""The policy values services read: the effective policy of the session's organisation, now.

Facito's privacy statement is the default policy; a contract between a customer and Facito
overrides it wherever the two disagree (DESIGN: effective policy). :func:`policy_value` is the
one place every service reads a policy value from: the statement version in force ⊕ the
contract in force for the session's organisation (:mod:`.effective`), at this instant.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from .service import effective_policy


class PolicyKey(StrEnum):
    RetentionDeletedItemsDays = "retention.deleted_items_days"
    ChildrenConsentAge = "children.consent_age"
    AuditRetentionDays = "audit.retention_days"
    AccountsVerifiedDomainsOnly = "accounts.verified_domains_only"


class PolicyValueMissing(LookupError):
    """No document in force sets the key (before the first statement version took effect)."""


def policy_value(session: Session, key: PolicyKey) -> int:
    """The value of ``key`` in force now for the session's organisation.

    Two indexed reads (the statement version and the contract in force); a session without an
    organisation has no contract and gets the statement's value.
    """
    value = effective_policy(session).value(key)
    if value is None:
        raise PolicyValueMissing(f"no statement or contract in force sets {key}")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{key} is not a number")


def policy_flag(session: Session, key: PolicyKey) -> bool:
    """The true/false value of ``key`` in force now for the session's organisation."""
    value = effective_policy(session).value(key)
    if value is None:
        raise PolicyValueMissing(f"no statement or contract in force sets {key}")
    if isinstance(value, bool):
        return value
    raise TypeError(f"{key} is not true or false")
