"""The controller's 72-hour clock of an incident notice (GDPR art. 33(1))."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facito_admin.incidents.clock import authority_clock, authority_deadline

NOTIFIED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_the_deadline_is_72_hours_after_the_organisation_was_told():
    assert authority_deadline(NOTIFIED) == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


def test_the_clock_counts_the_whole_seconds_left():
    clock = authority_clock(
        notified_at=NOTIFIED, now=NOTIFIED + timedelta(hours=70, seconds=0.5), assessed_at=None
    )
    assert clock.seconds_left == 2 * 3600 - 1
    assert not clock.deadline_passed
    assert not clock.stopped


def test_at_and_after_the_deadline_no_time_is_left_and_it_has_passed():
    at = authority_clock(notified_at=NOTIFIED, now=authority_deadline(NOTIFIED), assessed_at=None)
    assert (at.seconds_left, at.deadline_passed) == (0, True)
    later = authority_clock(
        notified_at=NOTIFIED, now=NOTIFIED + timedelta(days=30), assessed_at=None
    )
    assert (later.seconds_left, later.deadline_passed) == (0, True)


def test_an_assessment_in_time_stops_the_clock_without_passing_the_deadline():
    clock = authority_clock(
        notified_at=NOTIFIED,
        now=NOTIFIED + timedelta(days=30),
        assessed_at=NOTIFIED + timedelta(hours=10),
    )
    assert clock.stopped
    assert clock.seconds_left is None
    assert not clock.deadline_passed


def test_a_late_assessment_stops_the_clock_and_keeps_that_the_deadline_passed():
    clock = authority_clock(
        notified_at=NOTIFIED,
        now=NOTIFIED + timedelta(days=5),
        assessed_at=NOTIFIED + timedelta(hours=73),
    )
    assert (clock.stopped, clock.seconds_left, clock.deadline_passed) == (True, None, True)
