"""The jobs table: the source of truth for every background job (the queue only carries ids)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, new_id, utcnow
from ..db.tenancy import TenantScoped


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


FINISHED_STATES = frozenset({JobState.succeeded, JobState.failed, JobState.cancelled})
# The reaper's partial index covers only these; update the migration's index with this list.
ACTIVE_STATES = (JobState.queued, JobState.running)


class Job(TenantScoped, Base):
    """One background job of an organisation: what to do, where it is, and how it ended."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_org_kind_state", "organisation_id", "kind", "state", "id"),
        # Small by construction (finished jobs leave it): the reaper scans it across
        # organisations every minute without reading the jobs' history.
        Index(
            "ix_jobs_active",
            "organisation_id",
            "state",
            "heartbeat_at",
            postgresql_where=text("state IN ('queued', 'running')"),
            sqlite_where=text("state IN ('queued', 'running')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[JobState] = mapped_column(
        Enum(
            JobState,
            name="job_state",
            native_enum=False,
            length=32,
            validate_strings=True,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=JobState.queued,
    )
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a queued job may run: its creation, or the end of a retry's backoff. The reaper
    # sends a fresh queue message for queued jobs that waited too long past it.
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The claim of the worker running it (runner.py): every write of that worker checks it, so
    # a worker that was presumed dead and woke up cannot write over its successor.
    lease: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A message safe to show to the organisation; tracebacks go to the logs only.
    error: Mapped[str | None] = mapped_column(Text)
    # Where a resumable handler is, committed with the work of its last step.
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_by_oid: Mapped[str] = mapped_column(String(36))


class ScheduleLease(Base):
    """Which consumer enqueues the periodic tasks now, and the last minute it enqueued for.

    One row per schedule, seeded by migration 0020; jobs/schedule.py takes and renews it.
    """

    __tablename__ = "schedule_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]
    last_minute: Mapped[datetime | None]
