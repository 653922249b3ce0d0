"""Prometheus metrics of directory syncs, read from their state at scrape time: how many
federations sync on a schedule, how many of those are overdue, and how stale the stalest is.
Runs, outcomes and durations are the jobs' own (`facito_job_attempts_total{kind="directory-sync"}`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

from ..db.base import utcnow
from ..db.session import cross_organisation_session
from ..runtime import Runtime
from .models import DirectorySyncState

log = structlog.get_logger("facito_admin.directory_sync")

# A scheduled sync that has not started this long after it was due is overdue (the schedule
# scan runs every five minutes).
OVERDUE_AFTER = timedelta(minutes=15)


class DirectorySyncHealth(Collector):
    """Counts over every organisation's federations; no organisation becomes a label."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        full, delta = DirectorySyncState.last_full_sync_at, DirectorySyncState.last_delta_sync_at
        # The later of the two (a comparison with a NULL falls through to the other).
        last_sync = case((full > delta, full), else_=func.coalesce(delta, full))
        try:
            with cross_organisation_session(self.runtime, reason="sync metrics") as session:
                scheduled = DirectorySyncState.schedule_enabled.is_(True)
                count = session.scalar(select(func.count()).where(scheduled)) or 0
                overdue = session.scalar(
                    select(func.count()).where(
                        scheduled, DirectorySyncState.next_sync_at < now - OVERDUE_AFTER
                    )
                )
                stalest = session.scalar(select(func.min(last_sync)).where(scheduled))
        except SQLAlchemyError:
            log.warning("directory sync metrics: the database did not answer")
            return
        yield GaugeMetricFamily(
            "facito_directory_syncs_scheduled",
            "Federations whose directory is synced on a schedule",
            value=count,
        )
        yield GaugeMetricFamily(
            "facito_directory_syncs_overdue",
            "Scheduled directory syncs not started 15 minutes after they were due",
            value=overdue or 0,
        )
        age = (now - stalest).total_seconds() if stalest is not None else 0.0
        yield GaugeMetricFamily(
            "facito_directory_sync_stalest_age_seconds",
            "Time since the last sync of the scheduled federation synced longest ago",
            value=max(age, 0.0),
        )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())
