"""Linked data records inserted directly (no audit events, no policy check): lists, reads and
the isolation walk; the API tests ingest through the real batch route."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from facito_admin.accounts import lifecycle
from facito_admin.common.conditional import ANY
from facito_admin.db.base import new_id, utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from facito_admin.user_data.models import DataRecord
from tests.factories.audit import admin_ctx

PRODUCT = "web-development"


def record_row(
    organisation_id: uuid.UUID, account_id: uuid.UUID, n: int | str = 1, **overrides: Any
) -> dict[str, Any]:
    """A complete, unique row of the data_records table for record ``n``."""
    now = utcnow()
    row: dict[str, Any] = {
        "organisation_id": organisation_id,
        "id": new_id(),
        "account_id": account_id,
        "product": PRODUCT,
        "category": "content.files",
        "source_system": "crm",
        "external_key": f"rec-{n}",
        "subprocessor": "transip",
        "region": "transip-nl-amsterdam",
        "content": {"n": str(n)},
        "content_ref": None,
        "sensitive": False,
        "purposes": [],
        "occurred_at": now,
        "deleted_at": None,
        "created_at": now,
        "updated_at": now,
    }
    return row | overrides


def insert_records(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    account_id: uuid.UUID,
    count: int = 1,
    *,
    start: int = 0,
    occurred_at: datetime | None = None,
    **overrides: Any,
) -> list[uuid.UUID]:
    """``count`` records of one account in one statement; their ids, in insertion order."""
    rows = [
        record_row(
            organisation_id,
            account_id,
            start + i,
            **({"occurred_at": occurred_at} if occurred_at else {}),
            **overrides,
        )
        for i in range(count)
    ]
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        session.execute(insert(DataRecord), rows)
    return [row["id"] for row in rows]


def delete_account(runtime: Runtime, organisation_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """Delete an account through the lifecycle service (its grace period begins)."""
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        lifecycle.delete_account(
            session, admin_ctx(organisation_id), account_id=account_id, if_match=ANY
        )
