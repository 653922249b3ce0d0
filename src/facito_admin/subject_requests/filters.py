"""What both queues are searched by: the list filters and the deadline scan's selection.

The rules are deadlines.py's (pure), written here as plain SQL over the due times the
requests store (handling.set_clock keeps them current).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from .models import OPEN_STATUSES, RequestColumns, RequestKind, RequestStatus

# Open, with the clock running: awaiting the subject stops it (deadlines.is_overdue).
RUNNING_STATUSES = sorted(OPEN_STATUSES - {RequestStatus.awaiting_subject})


@dataclass(frozen=True)
class RequestFilter:
    status: Sequence[RequestStatus] = ()
    kind: RequestKind | None = None
    account_id: uuid.UUID | None = None
    assignee_id: str | None = None
    open: bool | None = None
    overdue: bool | None = None
    due_before: datetime | None = None

    @classmethod
    def from_query(cls, args: Mapping[str, Any], *, caller: str) -> RequestFilter:
        """The filter of a list's query arguments (schemas: SubjectRequestQueryArgsSchema);
        ``caller`` is whom `assigned_to_me` means (a principal's client_key)."""
        return cls(
            status=args["status"],
            kind=args["kind"],
            account_id=args.get("account_id"),
            assignee_id=caller if args["assigned_to_me"] else None,
            open=args["open"],
            overdue=args["overdue"],
            due_before=args["due_before"],
        )


def filtered(
    query: Select[Any], model: type[RequestColumns], where: RequestFilter, *, now: datetime
) -> Select[Any]:
    """``query`` over ``model`` (either queue's table) narrowed by ``where``."""
    if where.status:
        query = query.where(model.status.in_(list(where.status)))
    if where.kind is not None:
        query = query.where(model.kind == where.kind)
    if where.account_id is not None:
        query = query.where(model.subject_account_id == where.account_id)
    if where.assignee_id is not None:
        query = query.where(model.assignee_id == where.assignee_id)
    if where.open is not None:
        is_open = model.status.in_(OPEN_STATUSES)
        query = query.where(is_open if where.open else ~is_open)
    if where.overdue is not None:
        overdue = model.status.in_(RUNNING_STATUSES) & (model.due_at <= now)
        query = query.where(overdue if where.overdue else ~overdue)
    if where.due_before is not None:
        query = query.where(model.due_at < where.due_before)
    return query


def owed_a_notice(model: type[RequestColumns], *, now: datetime, days_before: int) -> Any:
    """The SQL condition of requests that may be owed a deadline notice: running, due within
    ``days_before`` days (or past due), not yet told they are overdue. The scan locks these
    and lets handling.deadline_notice decide (a second due-soon warning needs the rule)."""
    return (
        model.status.in_(RUNNING_STATUSES)
        & (model.due_at <= now + timedelta(days=days_before))
        & model.overdue_notified_at.is_(None)
    )


def notice_candidates(
    model: type[RequestColumns], *, now: datetime, days_before: int
) -> Select[Any]:
    """The requests of ``model``'s queue (the session's organisation's, or the DPO's) that may
    be owed a deadline notice, locked, the earliest due first."""
    return (
        select(model)
        .where(owed_a_notice(model, now=now, days_before=days_before))
        .order_by(model.due_at, model.id)
        .with_for_update()
    )
