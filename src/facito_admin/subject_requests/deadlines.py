"""The clock of a data-subject request (GDPR art. 12(3)), as pure functions.

A request is due ``response_days`` after it was received, the value in force at receipt (a
contract may shorten the statement's 30). The controller may extend it once or more, by at
most ``max_extension_days`` in all, with a reason, and only before the original due time; the
subject is told (the service records when). While the controller awaits the subject (an
identity document, a clarification) the clock stops: both due times move on by the pause.
The handlers are told once when a request is due soon and once when it is overdue
(deadline_scan.py); the rules for when are here too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


class ExtensionRefused(ValueError):
    """An extension the rules do not allow; ``code`` names which rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Clock:
    received_at: datetime
    response_days: int
    max_extension_days: int
    extension_days: int = 0
    paused_seconds: int = 0
    awaiting_since: datetime | None = None

    @property
    def original_due_at(self) -> datetime:
        """Due without any extension: receipt + response days + time spent paused."""
        return self.received_at + timedelta(days=self.response_days, seconds=self.paused_seconds)

    @property
    def due_at(self) -> datetime:
        """Due with the extension, as of the last pause that ended."""
        return self.original_due_at + timedelta(days=self.extension_days)

    def _pause_so_far(self, now: datetime) -> timedelta:
        if self.awaiting_since is None:
            return timedelta(0)
        return max(now - self.awaiting_since, timedelta(0))

    def due_at_now(self, now: datetime) -> datetime:
        """Due as of ``now``: a pause under way moves it on by its length so far."""
        return self.due_at + self._pause_so_far(now)

    def original_due_at_now(self, now: datetime) -> datetime:
        """Due without extension as of ``now`` (a pause under way moves it on too)."""
        return self.original_due_at + self._pause_so_far(now)

    @property
    def extension_days_left(self) -> int:
        return self.max_extension_days - self.extension_days

    def extend(self, *, days: int, reason: str, now: datetime) -> Clock:
        """The clock extended by ``days``, or ExtensionRefused."""
        if not reason.strip():
            raise ExtensionRefused("extension-reason-required", "an extension needs a reason")
        if days < 1:
            raise ExtensionRefused("extension-days-invalid", "extend by one day or more")
        # While the clock stands still the original due time moves on with it: a handler
        # awaiting the subject past the stored due time may still extend.
        original_due_at = self.original_due_at_now(now)
        if now >= original_due_at:
            raise ExtensionRefused(
                "extension-too-late",
                "a request can be extended only before its original due time "
                f"({original_due_at.isoformat()})",
            )
        if days > self.extension_days_left:
            raise ExtensionRefused(
                "extension-too-long",
                f"at most {self.max_extension_days} days of extension in all; "
                f"{self.extension_days_left} left",
            )
        return replace(self, extension_days=self.extension_days + days)

    def pause(self, now: datetime) -> Clock:
        """The clock stopped at ``now`` (already stopped: unchanged)."""
        if self.awaiting_since is not None:
            return self
        return replace(self, awaiting_since=now)

    def resume(self, now: datetime) -> Clock:
        """The clock running again; the pause's length moves both due times on."""
        if self.awaiting_since is None:
            return self
        paused = max(int((now - self.awaiting_since).total_seconds()), 0)
        return replace(self, awaiting_since=None, paused_seconds=self.paused_seconds + paused)


def start_clock(*, received_at: datetime, response_days: int, max_extension_days: int) -> Clock:
    """The clock of a request received at ``received_at`` under the values then in force."""
    return Clock(
        received_at=received_at,
        response_days=response_days,
        max_extension_days=max_extension_days,
    )


def is_overdue(clock: Clock, *, now: datetime) -> bool:
    """Past due (a paused clock is never overdue while it waits on the subject)."""
    return clock.awaiting_since is None and now >= clock.due_at


def is_due_soon(clock: Clock, *, now: datetime, days_before: int) -> bool:
    """Due within ``days_before`` days, and not yet overdue."""
    if clock.awaiting_since is not None or is_overdue(clock, now=now):
        return False
    return clock.due_at - now <= timedelta(days=days_before)


def overdue_notice_due(clock: Clock, *, now: datetime, notified_at: datetime | None) -> bool:
    """Whether the handlers are owed the overdue notice: overdue and never told so.

    Once only: being late is a fact that a later pause or answer does not undo.
    """
    return notified_at is None and is_overdue(clock, now=now)


def due_soon_notice_due(
    clock: Clock, *, now: datetime, days_before: int, notified_at: datetime | None
) -> bool:
    """Whether the handlers are owed the due-soon notice: due within ``days_before`` days and
    not yet warned about this due time.

    A warning given before the current due time's window opened was about an earlier due
    time, one an extension or a pause has since moved on: the handlers are warned again
    before the new one (otherwise the next thing they heard would be the overdue notice).
    Moves that keep the due time inside the window already warned about earn no second one.
    """
    if not is_due_soon(clock, now=now, days_before=days_before):
        return False
    return notified_at is None or notified_at < clock.due_at - timedelta(days=days_before)
