"""The clock of a data-subject request alone: due times, extensions, pauses (GDPR art. 12(3))."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facito_admin.subject_requests.deadlines import (
    Clock,
    ExtensionRefused,
    is_due_soon,
    is_overdue,
    start_clock,
)

RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def _clock(response_days: int = 30, max_extension_days: int = 60) -> Clock:
    return start_clock(
        received_at=RECEIVED, response_days=response_days, max_extension_days=max_extension_days
    )


def _refusal(clock: Clock, *, days: int, reason: str = "complex", now: datetime) -> str:
    with pytest.raises(ExtensionRefused) as refused:
        clock.extend(days=days, reason=reason, now=now)
    return refused.value.code


def test_a_request_is_due_30_days_after_receipt_under_the_statement():
    clock = _clock()
    assert clock.due_at == clock.original_due_at == RECEIVED + 30 * DAY


def test_a_request_is_due_14_days_after_receipt_under_a_contract_value_of_14():
    assert _clock(response_days=14).due_at == RECEIVED + 14 * DAY


def test_an_extension_before_the_original_due_time_moves_the_due_time_only():
    extended = _clock().extend(days=20, reason="many systems", now=RECEIVED + 29 * DAY)
    assert extended.due_at == RECEIVED + 50 * DAY
    assert extended.original_due_at == RECEIVED + 30 * DAY
    assert extended.extension_days_left == 40


def test_extensions_add_up_to_the_maximum_and_no_further():
    clock = _clock(max_extension_days=60).extend(days=40, reason="a", now=RECEIVED + DAY)
    clock = clock.extend(days=20, reason="b", now=RECEIVED + 2 * DAY)
    assert clock.due_at == RECEIVED + 90 * DAY
    assert _refusal(clock, days=1, now=RECEIVED + 3 * DAY) == "extension-too-long"


def test_an_extension_beyond_the_maximum_is_refused():
    assert _refusal(_clock(max_extension_days=60), days=61, now=RECEIVED) == "extension-too-long"


def test_no_extension_at_all_when_the_policy_allows_none():
    assert _refusal(_clock(max_extension_days=0), days=1, now=RECEIVED) == "extension-too-long"


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=1), 5 * DAY])
def test_an_extension_at_or_after_the_original_due_time_is_refused(late: timedelta):
    clock = _clock()
    assert _refusal(clock, days=10, now=clock.original_due_at + late) == "extension-too-late"


def test_a_second_extension_after_the_original_due_time_is_refused_within_the_first():
    clock = _clock().extend(days=20, reason="a", now=RECEIVED + DAY)
    # Still before the extended due time, but past the original one.
    now = RECEIVED + 31 * DAY
    assert now < clock.due_at
    assert _refusal(clock, days=5, now=now) == "extension-too-late"


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_an_extension_without_a_reason_is_refused(reason: str):
    assert _refusal(_clock(), days=5, reason=reason, now=RECEIVED) == "extension-reason-required"


@pytest.mark.parametrize("days", [0, -3])
def test_an_extension_of_no_days_is_refused(days: int):
    assert _refusal(_clock(), days=days, now=RECEIVED) == "extension-days-invalid"


def test_a_pause_and_its_resumption_move_both_due_times_by_the_pause():
    paused = _clock().pause(RECEIVED + 10 * DAY)
    assert paused.awaiting_since == RECEIVED + 10 * DAY
    # While paused, the due time as of now moves on; the stored one waits for the resumption.
    assert paused.due_at_now(RECEIVED + 13 * DAY) == RECEIVED + 33 * DAY
    resumed = paused.resume(RECEIVED + 13 * DAY + timedelta(hours=6))
    assert resumed.awaiting_since is None
    assert resumed.paused_seconds == int((3 * DAY + timedelta(hours=6)).total_seconds())
    assert resumed.original_due_at == RECEIVED + 33 * DAY + timedelta(hours=6)
    assert resumed.due_at == RECEIVED + 33 * DAY + timedelta(hours=6)


def test_pauses_add_up_and_an_extension_rides_on_top():
    clock = _clock().extend(days=10, reason="a", now=RECEIVED + DAY)
    clock = clock.pause(RECEIVED + 2 * DAY).resume(RECEIVED + 4 * DAY)
    clock = clock.pause(RECEIVED + 5 * DAY).resume(RECEIVED + 6 * DAY)
    assert clock.original_due_at == RECEIVED + 33 * DAY
    assert clock.due_at == RECEIVED + 43 * DAY


def test_pausing_a_paused_clock_or_resuming_a_running_one_changes_nothing():
    paused = _clock().pause(RECEIVED + DAY)
    assert paused.pause(RECEIVED + 2 * DAY) == paused
    running = _clock()
    assert running.resume(RECEIVED + DAY) == running


def test_an_extension_during_a_long_pause_is_in_time_while_the_clock_stands_still():
    # Paused on day 25 for three weeks: 25 days of 30 used, the original due time is day 51.
    paused = _clock().pause(RECEIVED + 25 * DAY)
    extended = paused.extend(days=10, reason="awaiting the ID", now=RECEIVED + 40 * DAY)
    assert extended.resume(RECEIVED + 46 * DAY).due_at == RECEIVED + 61 * DAY


def test_a_pause_begun_after_the_original_due_time_does_not_reopen_the_extension():
    extended = _clock().extend(days=20, reason="a", now=RECEIVED + DAY)
    paused = extended.pause(RECEIVED + 35 * DAY)
    assert _refusal(paused, days=5, now=RECEIVED + 40 * DAY) == "extension-too-late"


def test_a_request_is_overdue_from_its_due_time_and_never_while_paused():
    clock = _clock()
    assert not is_overdue(clock, now=clock.due_at - timedelta(seconds=1))
    assert is_overdue(clock, now=clock.due_at)
    assert not is_overdue(clock.pause(RECEIVED + DAY), now=clock.due_at + 5 * DAY)


def test_a_request_is_due_soon_within_the_days_before_and_not_once_overdue():
    clock = _clock()
    assert not is_due_soon(clock, now=clock.due_at - 4 * DAY, days_before=3)
    assert is_due_soon(clock, now=clock.due_at - 3 * DAY, days_before=3)
    assert is_due_soon(clock, now=clock.due_at - timedelta(seconds=1), days_before=3)
    assert not is_due_soon(clock, now=clock.due_at, days_before=3)
    assert not is_due_soon(clock.pause(RECEIVED), now=clock.due_at - DAY, days_before=3)
