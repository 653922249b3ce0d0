"""The hourly scan that tells handlers of requests due soon and overdue (GDPR art. 12(3)).

Organisations hear it through their webhooks (`dsr.due_soon`, `dsr.overdue`); the DPO queue
has none, so the request's timeline and Facito's chain record it. Each notice is given once
per request (deadlines.py says when a moved due time earns a second due-soon warning);
requests awaiting the subject are skipped, their clock stands still. The work is a few rows
per organisation, done here in one transaction per organisation (no job per organisation).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from ..db.base import utcnow
from ..db.session import cross_organisation_session, unit_of_work
from ..jobs import periodic_job, system_context
from ..runtime import Runtime
from . import facito_service, service
from .filters import owed_a_notice
from .models import SubjectRequest

SCAN_NAME = "dsr-deadline-scan"


def organisations_owed_notices(
    runtime: Runtime, *, now: datetime, days_before: int
) -> list[uuid.UUID]:
    """Ids of the organisations with requests that may be owed a deadline notice."""
    with cross_organisation_session(
        runtime, reason="find organisations with data-subject requests due soon or overdue"
    ) as session:
        return list(
            session.scalars(
                select(SubjectRequest.organisation_id)
                .where(owed_a_notice(SubjectRequest, now=now, days_before=days_before))
                .distinct()
            )
        )


def give_deadline_notices(runtime: Runtime) -> int:
    """Every organisation's queue, then the DPO's: the notices owed now; how many."""
    now = utcnow()
    days_before = runtime.settings.dsr_due_soon_days
    ctx = system_context(SCAN_NAME)
    told = 0
    for organisation_id in organisations_owed_notices(runtime, now=now, days_before=days_before):
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            told += service.warn_of_deadlines(session, ctx, now=now, days_before=days_before)
    # Facito's DPO queue belongs to no organisation.
    with unit_of_work(runtime, organisation_id=None) as session:
        told += facito_service.warn_of_deadlines(session, ctx, now=now, days_before=days_before)
    return told


@periodic_job(SCAN_NAME, minute="23")
def scan_deadlines(runtime: Runtime) -> None:
    """Every hour: the due-soon and overdue notices of data-subject requests."""
    give_deadline_notices(runtime)
