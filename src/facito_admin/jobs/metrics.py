"""Prometheus metrics of background jobs: how each attempt ended and how long it took (counted
by the process that ran it), and how many wait or run now (read from the jobs table, the truth
for every worker of the deployment)."""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..db.session import cross_organisation_session
from ..runtime import Runtime
from .models import ACTIVE_STATES, Job

log = structlog.get_logger("facito_admin.jobs")

# Outcomes of one attempt: succeeded, retry (failed, another attempt is scheduled), failed
# (no attempt left), cancelled, taken_over (the reaper gave the job to another worker).
JOB_ATTEMPTS = Counter(
    "facito_job_attempts",
    "Job attempts that ended, by kind and outcome",
    ["kind", "outcome"],
    registry=None,
)
JOB_DURATION = Histogram(
    "facito_job_attempt_duration_seconds",
    "Time a job attempt ran, from claim to its recorded outcome, by kind",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
    registry=None,
)
METRICS = (JOB_ATTEMPTS, JOB_DURATION)


class JobBacklog(Collector):
    """`facito_jobs{kind,state}`: the jobs queued and running now, across organisations.

    One query per scrape through the partial index of active jobs (small by construction);
    counts only, no organisation ever becomes a label.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "facito_jobs", "Jobs queued or running now, by kind and state", labels=["kind", "state"]
        )
        try:
            with cross_organisation_session(self.runtime, reason="job metrics") as session:
                rows = session.execute(
                    select(Job.kind, Job.state, func.count())
                    .where(Job.state.in_(ACTIVE_STATES))
                    .group_by(Job.kind, Job.state)
                ).all()
        except SQLAlchemyError:
            # The database being down is /readyz's to report; /metrics still answers.
            log.warning("job metrics: the database did not answer")
            return
        counts = {(kind, str(state)): count for kind, state, count in rows}
        for kind in sorted({kind for kind, _ in counts}):
            for state in ACTIVE_STATES:
                gauge.add_metric([kind, state.value], counts.get((kind, state.value), 0))
        yield gauge

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # No query at registration time (prometheus_client calls describe() then).
        return iter(())
