"""When a data-subject request's handlers are owed a deadline notice (pure rules), and the
clock a request starts with under the policy values in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facito_admin.subject_requests import deadlines, handling
from facito_admin.subject_requests.filters import RequestFilter
from facito_admin.subject_requests.models import RequestKind, RequestStatus

RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = RECEIVED + timedelta(days=30)
CLOCK = deadlines.start_clock(received_at=RECEIVED, response_days=30, max_extension_days=60)


def _due_soon(clock: deadlines.Clock, now: datetime, notified_at: datetime | None = None) -> bool:
    return deadlines.due_soon_notice_due(clock, now=now, days_before=7, notified_at=notified_at)


def test_a_request_is_due_soon_from_seven_days_before_its_due_time():
    assert not _due_soon(CLOCK, DUE - timedelta(days=7, seconds=1))
    assert _due_soon(CLOCK, DUE - timedelta(days=7))
    assert _due_soon(CLOCK, DUE - timedelta(seconds=1))


def test_an_overdue_or_paused_request_is_not_due_soon():
    assert not _due_soon(CLOCK, DUE)
    paused = CLOCK.pause(DUE - timedelta(days=10))
    assert not _due_soon(paused, DUE - timedelta(days=3))


def test_the_due_soon_notice_is_owed_once_per_due_time():
    warned = DUE - timedelta(days=6)
    assert not _due_soon(CLOCK, DUE - timedelta(days=2), notified_at=warned)


def test_an_extension_past_the_warned_window_earns_a_second_warning():
    warned = DUE - timedelta(days=6)
    extended = CLOCK.extend(days=20, reason="archive", now=DUE - timedelta(days=5))
    assert not _due_soon(extended, DUE + timedelta(days=5), notified_at=warned)
    assert _due_soon(extended, DUE + timedelta(days=14), notified_at=warned)


def test_an_extension_that_keeps_the_due_time_inside_the_warned_window_earns_none():
    warned = DUE - timedelta(days=6)
    extended = CLOCK.extend(days=1, reason="a day", now=DUE - timedelta(days=5))
    assert not _due_soon(extended, DUE - timedelta(days=1), notified_at=warned)


def test_a_pause_that_moves_the_due_time_on_earns_a_second_warning():
    warned = DUE - timedelta(days=6)
    resumed = CLOCK.pause(DUE - timedelta(days=5)).resume(DUE + timedelta(days=10))
    assert resumed.due_at == DUE + timedelta(days=15)
    assert _due_soon(resumed, DUE + timedelta(days=10), notified_at=warned)


def test_the_overdue_notice_is_owed_once_and_never_while_paused():
    assert not deadlines.overdue_notice_due(CLOCK, now=DUE - timedelta(seconds=1), notified_at=None)
    assert deadlines.overdue_notice_due(CLOCK, now=DUE, notified_at=None)
    assert not deadlines.overdue_notice_due(CLOCK, now=DUE, notified_at=DUE)
    paused = CLOCK.pause(DUE - timedelta(days=1))
    assert not deadlines.overdue_notice_due(paused, now=DUE + timedelta(days=9), notified_at=None)


@pytest.mark.parametrize(
    ("values", "days"),
    [
        ({"dsr.response_days": 14, "dsr.max_extension_days": 30}, (14, 30)),
        # Before the first statement, or a statement without the keys: 30 days, no extension.
        ({}, (30, 0)),
        ({"dsr.response_days": True, "dsr.max_extension_days": "60"}, (30, 0)),
    ],
)
def test_a_request_starts_its_clock_under_the_values_in_force(
    values: dict[str, object], days: tuple[int, int]
):
    clock = handling.start_clock(values.get, received_at=RECEIVED)
    assert (clock.response_days, clock.max_extension_days) == days
    assert clock.due_at == RECEIVED + timedelta(days=days[0])


def test_a_list_query_becomes_a_filter_with_assigned_to_me_meaning_the_caller():
    args = {
        "status": [RequestStatus.routed],
        "kind": RequestKind.erasure,
        "assigned_to_me": True,
        "open": None,
        "overdue": True,
        "due_before": None,
    }
    where = RequestFilter.from_query(args, caller="tid:oid")
    assert (where.assignee_id, where.account_id, where.kind) == (
        "tid:oid",
        None,
        RequestKind.erasure,
    )
    assert RequestFilter.from_query(args | {"assigned_to_me": None}, caller="x").assignee_id is None
