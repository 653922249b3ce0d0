"""The `audit-sealing` scan: seal whatever events still wait, every minute.

Events are sealed right after the commit that recorded them (audit/sealing.py); this scan
links those that a failed or killed sealer left waiting, so nothing waits longer than a minute
and a bit however that sealer died.
"""

from __future__ import annotations

from ..audit.sealing import organisations_waiting, seal_organisation
from ..db.session import cross_organisation_session
from ..jobs import periodic_job
from ..runtime import Runtime

SCAN_NAME = "audit-sealing"


def seal_waiting_events(runtime: Runtime) -> int:
    """Seal every organisation's waiting events, one organisation at a time; how many."""
    with cross_organisation_session(runtime, reason="find organisations with waiting events") as s:
        organisations = organisations_waiting(s)
    return sum(seal_organisation(runtime, organisation_id) for organisation_id in organisations)


@periodic_job(SCAN_NAME, minute="*")
def scan_for_waiting_events(runtime: Runtime) -> None:
    """Every minute: seal the events a sealer left waiting."""
    seal_waiting_events(runtime)
