"""Job kinds and periodic tasks registered by the domains (see the package docstring).

The registry knows what has been imported: every process that builds a runtime imports the
modules each domain lists under ``jobs`` in facito_admin/domains.py (bootstrap.py) first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from ..runtime import Runtime
    from .context import JobContext

Handler = Callable[[Session, "JobContext"], dict[str, Any]]
PeriodicFunction = Callable[["Runtime"], None]

_KIND = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
_HANDLERS: dict[str, Handler] = {}


@dataclass(frozen=True)
class PeriodicJob:
    """A function run on a crontab schedule by every consumer with periodic tasks on."""

    name: str
    function: PeriodicFunction
    schedule: dict[str, str]


_PERIODIC: dict[str, PeriodicJob] = {}


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``handler(session, ctx) -> result`` as the code that runs jobs of ``kind``."""
    if not _KIND.match(kind):
        raise ValueError(f"job kind {kind!r}: lowercase, 1-64 of a-z 0-9 _ . : -")

    def decorator(handler: Handler) -> Handler:
        existing = _HANDLERS.get(kind)
        if existing is not None and existing is not handler:
            raise ValueError(f"job kind {kind!r} already has a handler")
        _HANDLERS[kind] = handler
        return handler

    return decorator


def unregister_job_handler(kind: str) -> None:
    """Forget a kind (tests that register handlers of their own)."""
    _HANDLERS.pop(kind, None)


def handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)


def periodic_job(
    name: str,
    *,
    minute: str = "*",
    hour: str = "*",
    day: str = "*",
    month: str = "*",
    day_of_week: str = "*",
) -> Callable[[PeriodicFunction], PeriodicFunction]:
    """Register ``function(runtime)`` to run on a crontab schedule (UTC) in the consumers.

    The function finds due work across organisations (cross_organisation_session) and acts
    in one session per organisation, usually by enqueueing jobs. Every consumer with periodic
    tasks on runs it, so it must be idempotent. A periodic job registered after the queue
    was built runs only in queues built later (register it in a module its domain lists
    under ``jobs`` in facito_admin/domains.py).
    """
    schedule = {
        "minute": minute,
        "hour": hour,
        "day": day,
        "month": month,
        "day_of_week": day_of_week,
    }

    def decorator(function: PeriodicFunction) -> PeriodicFunction:
        _PERIODIC[name] = PeriodicJob(name=name, function=function, schedule=schedule)
        return function

    return decorator


def periodic_jobs() -> list[PeriodicJob]:
    return list(_PERIODIC.values())
