"""Pure account rules: comparison keys, minors, the grace period; and the errors they raise."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from ..errors import Conflict, InvalidState, ValidationFailed

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class GuardianConsentRequired(Conflict):
    """GDPR art. 8: a minor's account is not activated before a guardian consented."""

    code, title = "guardian-consent-required", "Guardian consent required"


class GracePeriodOver(Conflict):
    code, title = "grace-period-over", "The grace period is over"


class AccountNotActive(InvalidState):
    code, title = "account-not-active", "The account is not active"


class DomainOfAnotherOrganisation(ValidationFailed):
    """A UPN or e-mail address in a domain another organisation verified (and so owns)."""

    code, title = (
        "domain-of-another-organisation",
        "The address is in another organisation's domain",
    )


class DomainNotVerified(ValidationFailed):
    """The organisation's policy requires its own verified domains, and an address is outside
    them (`accounts.verified_domains_only`)."""

    code, title = (
        "domain-not-verified",
        "The address is not in one of the organisation's verified domains",
    )


def key(value: str) -> str:
    """The form uniqueness, sorting and search compare: trimmed and casefolded."""
    return value.strip().casefold()


def optional_key(value: str | None) -> str | None:
    return None if value is None else key(value)


def search_pattern(text: str) -> str:
    """A LIKE pattern (escape `\\`) matching ``text`` anywhere in a key column."""
    escaped = key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def adult_on(birth_date: date, consent_age: int) -> date:
    """The day someone born on ``birth_date`` reaches ``consent_age``.

    Born on 29 February: 1 March in common years, the later of the two candidate days, so
    that the protection of a minor never ends early.
    """
    year = birth_date.year + consent_age
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def purge_after(deleted_at: datetime, retention_days: int) -> datetime:
    """When a deleted account is removed for good."""
    return deleted_at + timedelta(days=retention_days)
