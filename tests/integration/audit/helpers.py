"""Organisations with a history: audit events recorded at past instants, and the prune job."""

from __future__ import annotations

import uuid
from datetime import timedelta

import time_machine
from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.audit_retention.tasks import PRUNE_KIND
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.jobs import enqueue_job, system_context
from facito_admin.jobs.models import Job
from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.runner import run_job
from facito_admin.runtime import Runtime
from tests.conftest import Org, make_organisation
from tests.factories.audit import record_events


def days_ago(days: int) -> time_machine.travel:
    """Travel to ``days`` ago: events recorded there carry that instant in their hash."""
    return time_machine.travel(utcnow() - timedelta(days=days), tick=False)


def organisation_since(runtime: Runtime, slug: str, tenant_id: str, *, days: int) -> Org:
    """An organisation created ``days`` ago (its first audit event is that old)."""
    with days_ago(days):
        return make_organisation(runtime, slug, tenant_id)


def events_at(runtime: Runtime, org: Org, count: int, *, days: int) -> list[AuditEvent]:
    """``count`` events recorded ``days`` ago."""
    with days_ago(days):
        return record_events(runtime, org.id, count)


def stored_events(runtime: Runtime, org: Org) -> list[AuditEvent]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def prune_jobs(runtime: Runtime, org: Org) -> list[Job]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(Job).where(Job.kind == PRUNE_KIND).order_by(Job.id)))


def enqueue_prune(runtime: Runtime, org: Org, *, batch: int) -> uuid.UUID:
    """A prune job with small batches (the scan enqueues it with the default batch)."""
    with unit_of_work(runtime, organisation_id=org.id) as session:
        job = enqueue_job(session, system_context("test"), kind=PRUNE_KIND, params={"batch": batch})
        return job.id


def run(runtime: Runtime, org: Org, job_id: uuid.UUID) -> Job:
    """Run the job now, in this process, as a worker would; its row afterwards."""
    run_job(queue_of(runtime), org.id, job_id)
    with runtime.session(organisation_id=org.id) as session:
        job = session.get(Job, (org.id, job_id))
        assert job is not None
        return job
