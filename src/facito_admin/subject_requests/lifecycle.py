"""Which status of a data-subject request may follow which, as data (pure)."""

from __future__ import annotations

from .models import OPEN_STATUSES, RequestStatus

_S = RequestStatus

TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    _S.received: frozenset({_S.routed, _S.verification_pending, _S.cancelled}),
    # Someone verifies the subject (routed), cannot (rejected), or the subject withdraws.
    _S.verification_pending: frozenset({_S.routed, _S.rejected, _S.cancelled}),
    _S.routed: frozenset(
        {_S.in_progress, _S.awaiting_subject, _S.completed, _S.rejected, _S.cancelled}
    ),
    _S.in_progress: frozenset({_S.awaiting_subject, _S.completed, _S.rejected, _S.cancelled}),
    # The subject answers (in_progress again, the clock runs on).
    _S.awaiting_subject: frozenset({_S.in_progress, _S.rejected, _S.cancelled}),
    _S.completed: frozenset(),
    _S.rejected: frozenset(),
    _S.cancelled: frozenset(),
}


def can_move(current: RequestStatus, target: RequestStatus) -> bool:
    """Whether ``target`` may follow ``current``."""
    return target in TRANSITIONS[current]


def is_open(status: RequestStatus) -> bool:
    """Still waiting for an answer (the clock matters)."""
    return status in OPEN_STATUSES
