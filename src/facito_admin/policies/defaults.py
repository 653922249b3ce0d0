"""The default policy: values taken from Facito's privacy statement (last updated 8 March 2019).

A contract between a customer and Facito overrides the statement wherever the two disagree
(DESIGN: effective policy). Until that resolution exists, :func:`policy_value` answers with the
statement's values; it is the one place every service reads a policy value from, so the later
resolution (statement version in force ⊕ contract overrides of the session's organisation)
replaces its body and nothing else.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from .parameters import STATEMENT_2019_VALUES

STATEMENT_VERSION = "2019-03-08"


class PolicyKey(StrEnum):
    RetentionDeletedItemsDays = "retention.deleted_items_days"
    ChildrenConsentAge = "children.consent_age"


def policy_value(session: Session, key: PolicyKey) -> int:
    """The value of ``key`` in force for the session's organisation (now: the statement's)."""
    # The session is part of the signature on purpose: the contract overrides of its
    # organisation will be read through it.
    value = STATEMENT_2019_VALUES[key]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{key} is not a number")
