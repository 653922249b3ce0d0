"""Periodic housekeeping of what the platform itself keeps: stored Idempotency-Key answers."""

from __future__ import annotations

import structlog

from ..db.session import unit_of_work
from ..http.idempotency import purge_expired
from ..runtime import Runtime
from .registry import periodic_job

log = structlog.get_logger("facito_admin.jobs")
PURGE_BATCH = 1000


def purge_idempotency_records(runtime: Runtime, *, batch: int = PURGE_BATCH) -> int:
    """Delete the Idempotency-Key records past their 24 hours, a batch per transaction."""
    purged = 0
    while True:
        # Records belong to no organisation (db/tenancy.py: GLOBAL_MODELS).
        with unit_of_work(runtime, organisation_id=None) as session:
            deleted = purge_expired(session, limit=batch)
        purged += deleted
        if deleted < batch:
            break
    if purged:
        log.info("idempotency_records_purged", count=purged)
    return purged


@periodic_job("idempotency-purge", minute="*/10")
def purge_idempotency(runtime: Runtime) -> None:
    """Every ten minutes: forget the Idempotency-Key answers that have lived their 24 hours."""
    purge_idempotency_records(runtime)
