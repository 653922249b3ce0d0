"""The job that writes down what time did to support access: requests that expired
unanswered and grants that reached their end (reach reads the times themselves, so access
ends at the instant; this job records it on the organisation's chain and tells its webhooks)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from ..db.base import utcnow
from ..db.session import unit_of_work
from ..jobs import periodic_job, system_context
from ..runtime import Runtime
from . import service
from .models import SupportAccessRequest

SCAN_NAME = "support-access-expiry"


def organisations_with_lapses(runtime: Runtime) -> list[uuid.UUID]:
    """Organisations with a request or grant whose stored status time has overtaken."""
    # A global table: read outside any organisation, then act in one session per organisation.
    with runtime.session() as session:
        return list(
            session.scalars(
                select(SupportAccessRequest.organisation_id)
                .where(service.lapsed_filter(utcnow()))
                .distinct()
            )
        )


def close_lapsed_access(runtime: Runtime) -> int:
    """Record every expiry and end that is due; how many."""
    ctx = system_context(SCAN_NAME)
    closed = 0
    for organisation_id in organisations_with_lapses(runtime):
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            closed += service.close_lapsed(session, ctx, now=utcnow())
    return closed


@periodic_job(SCAN_NAME, minute="*/5")
def scan_for_lapsed_access(runtime: Runtime) -> None:
    """Every five minutes: record the requests and grants that expired or ended."""
    close_lapsed_access(runtime)
