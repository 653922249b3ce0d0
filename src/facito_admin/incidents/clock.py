"""The controller's 72-hour clock of a breach notice (GDPR art. 33(1)), without a session.

An affected organisation is the controller: it must notify its supervisory authority within
72 hours of becoming aware of the breach, which is when Facito, its processor, told it
(art. 33(2) "without undue delay"). Recording that it notified the authority, or decided it
need not, stops the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

AUTHORITY_NOTIFICATION_HOURS = 72


@dataclass(frozen=True)
class AuthorityClock:
    deadline: datetime
    # Whole seconds until the deadline, never negative; None once the clock stopped.
    seconds_left: int | None
    # Whether the deadline passed (now, or before the assessment that stopped the clock).
    deadline_passed: bool
    stopped: bool


def authority_deadline(notified_at: datetime) -> datetime:
    """When the organisation's 72 hours end."""
    return notified_at + timedelta(hours=AUTHORITY_NOTIFICATION_HOURS)


def authority_clock(
    *, notified_at: datetime, now: datetime, assessed_at: datetime | None
) -> AuthorityClock:
    """The clock as of ``now``; stopped at ``assessed_at`` when the organisation assessed."""
    deadline = authority_deadline(notified_at)
    if assessed_at is not None:
        return AuthorityClock(deadline, None, assessed_at > deadline, stopped=True)
    left = int((deadline - now).total_seconds())
    return AuthorityClock(deadline, max(left, 0), now >= deadline, stopped=False)
