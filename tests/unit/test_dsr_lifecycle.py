"""Which status of a data-subject request may follow which, alone."""

from __future__ import annotations

import pytest

from facito_admin.subject_requests.lifecycle import TRANSITIONS, can_move, is_open
from facito_admin.subject_requests.models import OPEN_STATUSES, RequestStatus

S = RequestStatus
ANSWERED = (S.completed, S.rejected, S.cancelled)


def test_every_status_has_its_transitions_written_down():
    assert set(TRANSITIONS) == set(RequestStatus)


@pytest.mark.parametrize("status", ANSWERED)
def test_an_answered_request_is_final_and_no_longer_open(status: RequestStatus):
    assert TRANSITIONS[status] == frozenset()
    assert not is_open(status)
    assert not any(can_move(status, target) for target in RequestStatus)


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_every_open_request_can_be_withdrawn_and_never_goes_back_to_received(
    status: RequestStatus,
):
    assert is_open(status)
    assert can_move(status, S.cancelled)
    assert not can_move(status, S.received)
    assert not can_move(status, status)


def test_an_unverified_request_is_routed_or_rejected_but_not_worked_on_or_completed():
    assert can_move(S.verification_pending, S.routed)
    assert can_move(S.verification_pending, S.rejected)
    assert not can_move(S.verification_pending, S.in_progress)
    assert not can_move(S.verification_pending, S.completed)
    assert not can_move(S.verification_pending, S.awaiting_subject)


def test_a_routed_request_is_worked_on_asks_the_subject_or_is_answered():
    assert TRANSITIONS[S.routed] == {
        S.in_progress,
        S.awaiting_subject,
        S.completed,
        S.rejected,
        S.cancelled,
    }
    assert not can_move(S.routed, S.verification_pending)


def test_a_request_awaiting_the_subject_goes_on_only_through_in_progress():
    assert can_move(S.awaiting_subject, S.in_progress)
    assert not can_move(S.awaiting_subject, S.completed)
    assert not can_move(S.awaiting_subject, S.routed)
    assert can_move(S.in_progress, S.awaiting_subject)


def test_every_status_can_be_reached_from_received():
    reached, frontier = {S.received}, [S.received]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(RequestStatus)
