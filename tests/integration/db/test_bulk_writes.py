"""Bulk writes (db/bulk.py): a batch of rows as one statement on PostgreSQL, read back as given."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine

from facito_admin.audit.models import AuditEvent
from facito_admin.db.base import new_id
from facito_admin.db.bulk import insert_rows
from facito_admin.db.tenancy import scoped_write
from facito_admin.runtime import Runtime
from tests.conftest import Org


def event_row(organisation_id: uuid.UUID, seq: int) -> dict[str, Any]:
    return {
        "organisation_id": organisation_id,
        "id": new_id(),
        "seq": 50_000 + seq,
        "occurred_at": datetime(2026, 3, 1, 12, 30, 15, 123456 + seq, tzinfo=UTC),
        "actor_kind": "system",
        "actor_tid": "",
        "actor_oid": "",
        "actor_display": f'Zoë "quoted" \\ back-slashed ☃ {seq}',
        "action": "test:event:write",
        "target_type": "test",
        "target_id": str(uuid.uuid4()),
        "outcome": "success",
        "request_id": "req\t1",
        "details": {"fields": ["a", "b"], "nested": {"n": seq, "none": None, "ok": True}},
        "prev_hash": "0" * 64,
        "hash": f"{seq:064d}",
    }


@pytest.mark.postgres_only
def test_a_batch_of_rows_is_one_statement_and_reads_back_exactly_as_written(
    runtime: Runtime, org_a: Org, org_b: Org
):
    rows = [event_row(org_a.id, n) for n in range(3)]
    statements: list[tuple[str, bool]] = []

    def note(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        if statement.startswith("INSERT INTO audit_events"):
            statements.append((statement, many))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        with runtime.session(organisation_id=org_a.id, write=True) as session:
            scoped_write(session, insert(AuditEvent), rows)
            session.commit()
    finally:
        event.remove(Engine, "before_cursor_execute", note)

    assert [many for _statement, many in statements] == [False]
    assert "json_to_recordset" in statements[0][0]
    columns = [getattr(AuditEvent, name) for name in rows[0]]
    ids = [row["id"] for row in rows]
    with runtime.session(organisation_id=org_a.id) as session:
        stored = session.execute(select(*columns).where(AuditEvent.id.in_(ids))).all()
    assert sorted((dict(row._mapping) for row in stored), key=lambda r: r["seq"]) == rows
    with runtime.session(organisation_id=org_b.id) as session:
        assert session.execute(select(AuditEvent.id).where(AuditEvent.id.in_(ids))).all() == []


def test_rows_that_leave_out_a_column_with_a_python_default_are_left_to_an_executemany(
    org_a: Org,
):
    rows = [event_row(org_a.id, n) for n in range(2)]
    for row in rows:
        del row["id"]  # new_id per row: an INSERT … SELECT would give all rows one id
    assert insert_rows(AuditEvent, rows, same={"organisation_id": org_a.id}) is None
    whole = [event_row(org_a.id, n) for n in range(2)]
    assert insert_rows(AuditEvent, whole, same={"organisation_id": org_a.id}) is not None
