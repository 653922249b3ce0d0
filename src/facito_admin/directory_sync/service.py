"""Starting directory syncs (by API and on schedule), listing them, reading and scheduling them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.pagination import Page
from ..db.base import utcnow
from ..db.session import cross_organisation_session, unit_of_work
from ..db.tenancy import require_organisation
from ..errors import Conflict, InvalidState, NotFound, ValidationFailed
from ..jobs import enqueue_job, system_context
from ..jobs.models import ACTIVE_STATES, Job, JobState
from ..jobs.service import list_jobs
from ..organisations.federations import get_federation
from ..runtime import Runtime
from ..tenants.lookups import get_organisation
from ..tenants.models import Federation, FederationStatus, Organisation, OrganisationStatus
from .actions import DirectorySyncAction
from .models import DEFAULT_INTERVAL_MINUTES, SYNC_KIND, DirectorySyncState

log = structlog.get_logger("facito_admin.directory_sync")

# Throttling and lost workers are expected on long syncs; each retry resumes, not restarts.
MAX_ATTEMPTS = 5
SCHEDULER = "directory-sync-schedule"


class SyncInProgress(Conflict):
    code, title = "sync-in-progress", "A sync of this federation is queued or running"


def _sync_federation(session: Session, federation_id: uuid.UUID | None) -> Federation:
    """The federation to sync: the one named, or the organisation's only active one."""
    organisation = get_organisation(session, organisation_id=require_organisation(session))
    if organisation.status is not OrganisationStatus.active:
        raise InvalidState(f"the organisation is {organisation.status.value}")
    if federation_id is not None:
        federation = get_federation(session, federation_id=federation_id)
    else:
        active = session.scalars(
            select(Federation)
            .where(
                Federation.organisation_id == organisation.id,
                Federation.status == FederationStatus.active,
            )
            .order_by(Federation.id)
            .limit(2)
        ).all()
        if not active:
            raise InvalidState("the organisation has no active federation to sync")
        if len(active) > 1:
            raise ValidationFailed(
                "the organisation has several active federations: name one",
                errors={"federation_id": ["required when several federations are active"]},
            )
        federation = active[0]
    if federation.status is not FederationStatus.active:
        raise InvalidState(f"the federation is {federation.status.value}, not active")
    return federation


def _state(session: Session, federation_id: uuid.UUID) -> DirectorySyncState | None:
    return session.get(
        DirectorySyncState, (require_organisation(session), federation_id), populate_existing=True
    )


def _active_job(session: Session, state: DirectorySyncState) -> uuid.UUID | None:
    if state.last_job_id is None:
        return None
    job_state = session.scalar(select(Job.state).where(Job.id == state.last_job_id))
    return state.last_job_id if job_state in ACTIVE_STATES else None


def start_directory_sync(
    session: Session,
    ctx: RequestContext,
    *,
    federation_id: uuid.UUID | None,
    mode: str = "delta",
) -> Job:
    """Enqueue a sync of a federation's directory; 409 while one is queued or running."""
    job = _start(session, ctx, federation_id=federation_id, mode=mode, due_by=None)
    if job is None:  # pragma: no cover - only a due_by can find nothing to do
        raise InvalidState("nothing to sync")
    return job


def _start(
    session: Session,
    ctx: RequestContext,
    *,
    federation_id: uuid.UUID | None,
    mode: str,
    due_by: datetime | None,
) -> Job | None:
    """Enqueue a sync; with ``due_by`` (the scheduler) only if the schedule is due by then."""
    federation = _sync_federation(session, federation_id)
    # Serialises starts of one federation (PostgreSQL; SQLite's write lock already does).
    session.execute(select(Federation.id).where(Federation.id == federation.id).with_for_update())
    state = _state(session, federation.id)
    if state is None:
        state = DirectorySyncState(
            federation_id=federation.id,
            schedule_enabled=True,
            interval_minutes=DEFAULT_INTERVAL_MINUTES,
        )
        session.add(state)
    if due_by is not None and (
        not state.schedule_enabled or (state.next_sync_at and state.next_sync_at > due_by)
    ):
        return None
    running = _active_job(session, state)
    if running is not None:
        raise SyncInProgress(
            "a sync of this federation is queued or running; follow it, or cancel it first",
            extra={"job_id": str(running)},
        )
    params = {"federation_id": str(federation.id), "mode": mode}
    job = enqueue_job(session, ctx, kind=SYNC_KIND, params=params, max_attempts=MAX_ATTEMPTS)
    state.last_job_id = job.id
    state.next_sync_at = utcnow() + timedelta(minutes=state.interval_minutes)
    record_event(
        session,
        ctx,
        action=DirectorySyncAction.DirectorySyncStart,
        target_type="federation",
        target_id=federation.id,
        details={"job_id": str(job.id), "mode": mode, "scheduled": due_by is not None},
    )
    return job


def list_directory_syncs(
    session: Session, *, state: JobState | None, limit: int, cursor: str | None
) -> Page[Job]:
    """The organisation's sync runs (jobs), newest first."""
    return list_jobs(session, kind=SYNC_KIND, state=state, limit=limit, cursor=cursor)


def get_sync_state(session: Session, *, federation_id: uuid.UUID) -> DirectorySyncState:
    """A federation's sync state; defaults (not stored) for one that never synced."""
    get_organisation(session, organisation_id=require_organisation(session))
    federation = get_federation(session, federation_id=federation_id)
    state = _state(session, federation.id)
    if state is None:
        now = utcnow()
        state = DirectorySyncState(
            organisation_id=federation.organisation_id,
            federation_id=federation.id,
            schedule_enabled=False,
            interval_minutes=DEFAULT_INTERVAL_MINUTES,
            created_at=now,
            updated_at=now,
        )
    return state


def update_sync_schedule(
    session: Session,
    ctx: RequestContext,
    *,
    federation_id: uuid.UUID,
    changes: dict[str, Any],
) -> DirectorySyncState:
    """Turn a federation's scheduled delta syncs on or off, or change their interval."""
    organisation = get_organisation(session, organisation_id=require_organisation(session))
    if organisation.status is OrganisationStatus.offboarded:
        raise InvalidState("an offboarded organisation has no syncs")
    federation = get_federation(session, federation_id=federation_id)
    state = _state(session, federation.id)
    if state is None:
        state = DirectorySyncState(
            federation_id=federation.id,
            schedule_enabled=True,
            interval_minutes=DEFAULT_INTERVAL_MINUTES,
        )
        session.add(state)
    state.schedule_enabled = changes.get("enabled", state.schedule_enabled)
    state.interval_minutes = changes.get("interval_minutes", state.interval_minutes)
    if state.schedule_enabled:
        # Never synced: at the scheduler's next round; else within the (new) interval.
        soonest = utcnow() + timedelta(minutes=state.interval_minutes)
        if state.last_job_id is None:
            state.next_sync_at = None
        elif state.next_sync_at is None or state.next_sync_at > soonest:
            state.next_sync_at = soonest
    session.flush()
    record_event(
        session,
        ctx,
        action=DirectorySyncAction.DirectorySyncSchedule,
        target_type="federation",
        target_id=federation.id,
        details={"enabled": state.schedule_enabled, "interval_minutes": state.interval_minutes},
    )
    return state


def enqueue_due_syncs(runtime: Runtime, *, now: datetime | None = None) -> list[uuid.UUID]:
    """Enqueue a delta sync of every federation whose schedule is due; the job ids."""
    now = now or utcnow()
    with cross_organisation_session(
        runtime, reason="directory sync schedule: find federations whose sync is due"
    ) as session:
        due = session.execute(
            select(DirectorySyncState.organisation_id, DirectorySyncState.federation_id)
            .join(Federation, Federation.id == DirectorySyncState.federation_id)
            .join(Organisation, Organisation.id == DirectorySyncState.organisation_id)
            .where(
                DirectorySyncState.schedule_enabled.is_(True),
                or_(
                    DirectorySyncState.next_sync_at.is_(None),
                    DirectorySyncState.next_sync_at <= now,
                ),
                Federation.status == FederationStatus.active,
                Organisation.status == OrganisationStatus.active,
            )
            .order_by(DirectorySyncState.organisation_id, DirectorySyncState.federation_id)
        ).all()
    started: list[uuid.UUID] = []
    for organisation_id, federation_id in due:
        try:
            with unit_of_work(runtime, organisation_id=organisation_id) as session:
                job = _start(
                    session,
                    system_context(SCHEDULER),
                    federation_id=federation_id,
                    mode="delta",
                    due_by=now,
                )
                if job is not None:
                    started.append(job.id)
        except (SyncInProgress, InvalidState, NotFound):
            continue  # still running, or changed since the look: the next round decides
        except Exception:
            # One organisation's failure must not keep the others from their syncs.
            log.exception("directory_sync_schedule_failed", organisation_id=str(organisation_id))
    if started:
        log.info("directory_syncs_scheduled", count=len(started))
    return started
