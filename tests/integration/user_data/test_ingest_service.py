"""The ingestion service on its own: a fixed number of statements whatever the batch size, and
what an upsert does to a soft-deleted record."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from facito_admin.user_data import batch, service
from facito_admin.user_data.models import DataRecord
from tests.api.user_data.helpers import item
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.audit import admin_ctx


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "set_config(" not in statement:
            seen.append(" ".join(statement.split())[:40])

    event.listen(runtime.database.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(runtime.database.engine, "before_cursor_execute", note)


def _ingest(runtime: Runtime, org: Org, items: list[dict[str, Any]]) -> service.IngestResult:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        return service.ingest_records(session, admin_ctx(org.id), items=items)


def _statements_for(runtime: Runtime, org: Org, items: list[dict[str, Any]]) -> int:
    with statements(runtime) as seen:
        _ingest(runtime, org, items)
    # One executemany is one statement here, however many rows it carries.
    return len(seen)


def test_a_batch_costs_the_same_statements_whether_it_holds_one_record_or_five_hundred(
    runtime: Runtime, org_a: Org
):
    account = make_account(runtime, org_a.id)
    one = _statements_for(runtime, org_a, [item(account.id, "single")])
    many = _statements_for(runtime, org_a, [item(account.id, n) for n in range(500)])
    assert one == many


def test_pushing_a_soft_deleted_record_again_makes_it_live_and_counts_as_an_update(
    runtime: Runtime, org_a: Org
):
    account = make_account(runtime, org_a.id)
    [created] = _ingest(runtime, org_a, [item(account.id)]).records
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        service.delete_record(
            session, admin_ctx(org_a.id), account_id=account.id, record_id=uuid.UUID(created["id"])
        )
    again = _ingest(runtime, org_a, [item(account.id, content={"v": 2})])
    assert (again.created, again.updated) == (0, 1)
    assert again.records[0]["id"] == created["id"]
    with runtime.session(organisation_id=org_a.id) as session:
        record = session.scalars(select(DataRecord)).one()
        assert record.deleted_at is None
        assert record.content == {"v": 2}
        assert record.created_at < record.updated_at


@pytest.mark.postgres_only
def test_a_batch_the_database_refuses_after_its_checks_is_a_conflict_and_writes_nothing(
    runtime: Runtime, org_a: Org, monkeypatch: pytest.MonkeyPatch
):
    """An account purged between the checks and the write: the foreign key refuses the row."""
    account = make_account(runtime, org_a.id)
    gone = uuid.uuid4()
    # The checks ran before the account went: they found nothing to say.
    monkeypatch.setattr(batch, "_database_errors", lambda session, records: [])
    with pytest.raises(batch.BatchRaced):
        _ingest(runtime, org_a, [item(account.id, "kept"), item(gone, "orphan")])
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        assert session.scalars(select(DataRecord.id)).all() == []
