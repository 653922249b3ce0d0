"""Linked data records, legal holds and retention runs for the retention tests.

Records are inserted directly (Core bulk insert): the ingestion API is another issue's.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from facito_admin.db.base import new_id, utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.jobs import enqueue_job
from facito_admin.jobs.models import Job
from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.runner import run_job
from facito_admin.retention import holds
from facito_admin.retention.models import DeletionCertificate, DeletionKind, LegalHold
from facito_admin.retention.runs import RUN_KIND
from facito_admin.runtime import Runtime
from facito_admin.user_data.models import DataRecord
from tests.factories.audit import admin_ctx

PRODUCT = "microsoft-365"


def record_row(
    organisation_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    category: str,
    occurred_at: datetime,
    sensitive: bool = False,
    deleted_at: datetime | None = None,
) -> dict[str, Any]:
    """One data_records row, as a Core insert takes it."""
    record_id = new_id()
    now = utcnow()
    return {
        "organisation_id": organisation_id,
        "id": record_id,
        "account_id": account_id,
        "product": PRODUCT,
        "category": category,
        "source_system": "test",
        "external_key": str(record_id),
        "subprocessor": "transip",
        "region": "transip-nl-amsterdam",
        "content": None,
        "content_ref": None,
        "sensitive": sensitive,
        "occurred_at": occurred_at,
        "deleted_at": deleted_at,
        "created_at": now,
        "updated_at": now,
    }


def add_records(runtime: Runtime, organisation_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        session.execute(insert(DataRecord), rows)


def add_record(
    runtime: Runtime, organisation_id: uuid.UUID, account_id: uuid.UUID, **fields: Any
) -> uuid.UUID:
    """Insert one record; its id."""
    row = record_row(organisation_id, account_id, **fields)
    add_records(runtime, organisation_id, [row])
    return uuid.UUID(str(row["id"]))


def record_ids(runtime: Runtime, organisation_id: uuid.UUID) -> set[uuid.UUID]:
    with runtime.session(organisation_id=organisation_id) as session:
        return set(session.scalars(select(DataRecord.id)))


def record_count(runtime: Runtime, organisation_id: uuid.UUID) -> int:
    with runtime.session(organisation_id=organisation_id) as session:
        return int(session.scalar(select(func.count()).select_from(DataRecord)) or 0)


def place_hold(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None = None,
    category: str | None = None,
) -> uuid.UUID:
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        hold = holds.place_legal_hold(
            session,
            admin_ctx(organisation_id),
            account_id=account_id,
            category=category,
            reason="litigation",
            reference="CASE-1",
        )
        return hold.id


def release_hold(runtime: Runtime, organisation_id: uuid.UUID, hold_id: uuid.UUID) -> None:
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        holds.release_legal_hold(
            session, admin_ctx(organisation_id), hold_id=hold_id, reason="case closed"
        )


def enqueue(runtime: Runtime, organisation_id: uuid.UUID, kind: str = RUN_KIND, **params: Any):
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        return enqueue_job(session, admin_ctx(organisation_id), kind=kind, params=params).id


def read_job(runtime: Runtime, organisation_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    with runtime.session(organisation_id=organisation_id) as session:
        job = session.get(Job, (organisation_id, job_id))
        assert job is not None
        return job


def run_now(
    runtime: Runtime, organisation_id: uuid.UUID, kind: str = RUN_KIND, **params: Any
) -> Job:
    """Enqueue a job and run it here, as a worker would; the finished job."""
    job_id = enqueue(runtime, organisation_id, kind, **params)
    run_job(queue_of(runtime), organisation_id, job_id)
    return read_job(runtime, organisation_id, job_id)


def certificates(runtime: Runtime, organisation_id: uuid.UUID) -> list[DeletionCertificate]:
    with runtime.session(organisation_id=organisation_id) as session:
        return list(session.scalars(select(DeletionCertificate).order_by(DeletionCertificate.id)))


def holds_of(runtime: Runtime, organisation_id: uuid.UUID) -> list[LegalHold]:
    with runtime.session(organisation_id=organisation_id) as session:
        return list(session.scalars(select(LegalHold)))


def seed_retention_rows(runtime: Runtime, organisation_id: uuid.UUID) -> None:
    """A legal hold and a deletion certificate of the organisation (for the isolation walk)."""
    hold_id = place_hold(runtime, organisation_id)
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        session.add(
            DeletionCertificate(
                kind=DeletionKind.retention,
                started_at=utcnow(),
                removed={"data_records": {"usage.device": 1}},
                removed_total=1,
                kept_by_holds={"total": 0, "categories": {}, "holds": {str(hold_id): 0}},
                basis={},
            )
        )
