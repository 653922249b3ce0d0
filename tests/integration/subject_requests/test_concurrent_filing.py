"""Filings at once: two of one kind for one subject make one request, and a filing that meets
a request being handled waits for it instead of deadlocking (PostgreSQL; SQLite serialises
write transactions anyway)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from facito_admin.auth.context import Principal, PrincipalKind, RequestContext
from facito_admin.auth.permissions import AppRole, permissions_for
from facito_admin.db.session import unit_of_work
from facito_admin.errors import NotFound
from facito_admin.jobs import JobContext
from facito_admin.runtime import Runtime
from facito_admin.subject_requests import facito_service, service
from facito_admin.subject_requests.fulfilment.base import load_request
from facito_admin.subject_requests.fulfilment.erasure import erase_account
from facito_admin.subject_requests.handling import Filed
from facito_admin.subject_requests.models import Channel, RequestKind
from tests.api.subject_requests.helpers import dpo_requests, person, queue_rows
from tests.conftest import Org
from tests.factories.audit import admin_ctx

EMAIL = "jan@example.nl"


def _dpo() -> RequestContext:
    roles = frozenset({AppRole.FacitoPrivacyOfficer})
    principal = Principal(
        kind=PrincipalKind.facito_staff,
        tenant_id="ffffffff-0000-4000-8000-00000000000f",
        object_id=str(uuid.uuid4()),
        display_name="Facito DPO",
        roles=roles,
        permissions=permissions_for(roles),
        organisation_id=None,
    )
    return RequestContext(principal=principal, request_id=f"test-{uuid.uuid4().hex[:12]}")


# pg_locks shows the whole server, and a wait in another database (another suite, another
# xdist worker) is not this test's filing. A row lock's waiter waits for the holder's
# transaction id, a lock of no database: the waiting backend's own database tells them apart.
WAITING_HERE = """
    SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)
    WHERE NOT granted AND datname = current_database()
"""


def _wait_until_blocked(runtime: Runtime) -> None:
    """Until another transaction waits for a lock (PostgreSQL), or a while (SQLite: the
    writer waits for the database's write lock, which shows nowhere)."""
    if not runtime.database.is_postgresql:
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with runtime.database.engine.connect() as connection:
            if connection.scalar(text(WAITING_HERE)):
                return
        time.sleep(0.05)
    raise AssertionError("the second filing never waited for the first")


def _file_own(
    runtime: Runtime, org: Org, ctx: RequestContext, kind: RequestKind = RequestKind.access
) -> Filed:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        return service.file_own_request(session, ctx, kind=kind, description="my data", scope={})


def _job_context(session: Session, org: Org, kind: str, request_id: uuid.UUID) -> JobContext:
    """A worker's context for one attempt of a job of ``kind`` (as jobs/runner.py makes it)."""
    return JobContext(
        organisation_id=org.id,
        job_id=uuid.uuid4(),
        kind=kind,
        params={"request_id": str(request_id)},
        checkpoint=None,
        attempt=1,
        max_attempts=1,
        progress_done=0,
        progress_total=None,
        lease=uuid.uuid4(),
        session=session,
    )


def _file_personal(runtime: Runtime, ctx: RequestContext) -> Filed:
    with unit_of_work(runtime, organisation_id=None) as session:
        return facito_service.file_request(
            session,
            ctx,
            display_name="Jan de Vries",
            email=EMAIL,
            kind=RequestKind.access,
            description="asked by phone",
            scope={},
            channel=Channel.phone,
        )


def test_two_own_filings_of_one_kind_at_once_make_one_request(
    runtime: Runtime, org_a: Org, org_b: Org
):
    _, oid = person(runtime, org_a)
    ctx = admin_ctx(org_a.id, oid=oid)
    first = runtime.session(organisation_id=org_a.id, write=True)
    try:
        filed = service.file_own_request(
            first, ctx, kind=RequestKind.access, description="all my data", scope={}
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(_file_own, runtime, org_a, ctx)
            _wait_until_blocked(runtime)
            first.commit()
            again = second.result(timeout=60)
    finally:
        first.close()
    assert filed.created and not again.created
    assert [r.id for r in queue_rows(runtime, org_a)] == [filed.request.id]
    assert queue_rows(runtime, org_b) == []


def test_a_personal_filing_waits_for_the_handler_of_the_open_request(runtime: Runtime, org_a: Org):
    dpo = _dpo()
    open_request = _file_personal(runtime, dpo).request
    handler = runtime.session(organisation_id=None, write=True)
    try:
        facito_service.lock_request(handler, request_id=open_request.id)
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(_file_personal, runtime, dpo)
            _wait_until_blocked(runtime)
            # The handler records on Facito's chain while the filing waits for its row.
            facito_service.assign_request(
                handler,
                dpo,
                request_id=open_request.id,
                assignee_object_id=None,
                assignee_name=None,
            )
            handler.commit()
            again = second.result(timeout=60)
    finally:
        handler.close()
    assert not again.created and again.request.id == open_request.id
    assert [r.id for r in dpo_requests(runtime)] == [open_request.id]
    assert queue_rows(runtime, org_a) == []


def test_a_filing_during_the_erasure_of_the_account_waits_for_it_then_finds_no_account(
    runtime: Runtime, org_a: Org, org_b: Org
):
    _, oid = person(runtime, org_a)
    ctx = admin_ctx(org_a.id, oid=oid)
    erasure = _file_own(runtime, org_a, ctx, RequestKind.erasure).request
    worker = runtime.session(organisation_id=org_a.id, write=True)
    try:
        job = _job_context(worker, org_a, "dsr-erasure", erasure.id)
        request = load_request(worker, job)
        with ThreadPoolExecutor(max_workers=1) as pool:
            again = pool.submit(_file_own, runtime, org_a, ctx, RequestKind.erasure)
            _wait_until_blocked(runtime)
            # The step locks the account while the filing waits (for the account; were it
            # waiting for the request, which it would join, the two would wait for each other).
            assert erase_account(worker, job, request, {"kept": []})["deleted_now"]
            worker.commit()
            with pytest.raises(NotFound):
                again.result(timeout=60)
    finally:
        worker.close()
    assert [r.id for r in queue_rows(runtime, org_a)] == [erasure.id]
    assert queue_rows(runtime, org_b) == []
