"""Ingestion: a batch of records from a customer system, upserted by (source system, external
key), all or nothing, with one audit event and one webhook event for the whole batch.

Fast on purpose (bench/ingest.py): a fixed number of queries whatever the batch size (products,
accounts, policy), then on PostgreSQL one INSERT … ON CONFLICT DO UPDATE, on SQLite a lookup of
the existing keys, one bulk INSERT and one executemany UPDATE; no ORM object per row.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from psycopg.types.json import Json
from sqlalchemy import JSON, Table, literal_column, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.orm import Session

from ..accounts.models import Account, AccountStatus
from ..audit.service import record_event
from ..auth.context import RequestContext
from ..db.base import new_id, utcnow
from ..db.tenancy import TenancyViolation, require_organisation
from ..errors import Conflict, ValidationFailed
from ..policies.effective.service import effective_policy
from ..policies.regions import REGIONS
from ..products.models import Product
from ..webhooks.events import WebhookEventType, publish_event
from .actions import DataRecordAction
from .ingest import ItemError, NewRecord, check_items
from .models import DataRecord

DATA_RECORDS = cast(Table, DataRecord.__table__)


class BatchInvalid(ValidationFailed):
    """Items of a batch break rules: nothing was written; ``extra["errors"]`` lists them all."""

    code, title = "batch-invalid", "The batch has invalid items"

    def __init__(self, errors: Sequence[ItemError]) -> None:
        items = sorted({e.index for e in errors})
        super().__init__(f"{len(errors)} errors in {len(items)} items; nothing was written")
        # The house problem's `errors`, each with the item's index and a code to switch on.
        self.extra = {"errors": [e.as_dict() for e in errors]}


class BatchRaced(Conflict):
    """The database refused the batch for a change made since it was checked: nothing written."""

    code, title = "batch-conflict", "The batch conflicts with a concurrent change"


@dataclass(frozen=True)
class IngestResult:
    """Counts, and per item (in order) `{index, id, external_key, created}`, JSON-ready."""

    created: int
    updated: int
    records: list[dict[str, Any]]


def _policy_refusals(session: Session, regions: set[str]) -> dict[str, tuple[str, str]]:
    """Region → (code, message) for the regions the effective policy refuses now."""
    policy = effective_policy(session)
    allowed = policy.value("residency.allowed_regions")
    eea_only = policy.value("residency.eea_only")
    subprocessors = policy.value("subprocessors.allowed")
    refused: dict[str, tuple[str, str]] = {}
    for code in regions:
        known = REGIONS[code]
        if isinstance(allowed, list) and code not in allowed:
            refused[code] = ("region-not-allowed", f"{code} is not an allowed region")
        elif eea_only is True and not known.eea:
            refused[code] = ("region-not-allowed", f"{code} ({known.country}) is outside the EEA")
        elif isinstance(subprocessors, list) and known.subprocessor not in subprocessors:
            refused[code] = (
                "subprocessor-not-allowed",
                f"{code} is hosted by {known.subprocessor}, not an allowed subprocessor",
            )
    return refused


def _database_errors(session: Session, records: Sequence[NewRecord]) -> list[ItemError]:
    """What only the database can tell: products, accounts (of this organisation) and policy."""
    products = {r.product for r in records}
    known_products = set(session.scalars(select(Product.code).where(Product.code.in_(products))))
    account_ids = {r.account_id for r in records}
    # Tenant-scoped: an account of another organisation is simply not found, like a made-up id.
    found = session.execute(select(Account.id, Account.status).where(Account.id.in_(account_ids)))
    statuses = dict(found.all())
    refused = _policy_refusals(session, {r.region for r in records})
    errors: list[ItemError] = []
    for r in records:
        path = f"records.{r.index}"
        if r.product not in known_products:
            errors.append(
                ItemError(r.index, f"{path}.product", "unknown-product", "Not a product.")
            )
        status = statuses.get(r.account_id)
        if status is None:
            errors.append(
                ItemError(r.index, f"{path}.account_id", "account-not-found", "No such account.")
            )
        elif status == AccountStatus.deleted:
            errors.append(
                ItemError(
                    r.index,
                    f"{path}.account_id",
                    "account-deleted",
                    "The account is deleted: it takes no new records.",
                )
            )
        if r.region in refused:
            code, message = refused[r.region]
            errors.append(ItemError(r.index, f"{path}.storage.region", code, message + "."))
    return errors


def _existing(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], Any]:
    keys = {(row["source_system"], row["external_key"]) for row in rows}
    # Two IN lists rather than a row-value IN: SQLite answers a row-value IN by scanning the
    # organisation's records, but two IN lists by the unique index (organisation_id,
    # source_system, external_key). A pair that only the cross product names is dropped here.
    found = session.execute(
        select(DataRecord.id, DataRecord.source_system, DataRecord.external_key).where(
            DataRecord.source_system.in_({source for source, _ in keys}),
            DataRecord.external_key.in_({key for _, key in keys}),
        )
    )
    return {(source, key): record_id for record_id, source, key in found if (source, key) in keys}


def _row(organisation_id: uuid.UUID, r: NewRecord, now: datetime) -> dict[str, Any]:
    return {
        "organisation_id": organisation_id,
        "account_id": r.account_id,
        "product": r.product,
        "category": r.category,
        "source_system": r.source_system,
        "external_key": r.external_key,
        "subprocessor": r.subprocessor,
        "region": r.region,
        "content": r.content,
        "content_ref": r.content_ref,
        "sensitive": r.sensitive,
        "purposes": r.purposes,
        "occurred_at": r.occurred_at,
        # Pushed again, a soft-deleted record is live again: its source still holds it.
        "deleted_at": None,
        "updated_at": now,
    }


# What an upsert changes in a record that exists: everything but its identity and creation.
_UPDATED = tuple(
    c.name
    for c in DATA_RECORDS.columns
    if c.name not in ("organisation_id", "id", "source_system", "external_key", "created_at")
)
Stored = dict[tuple[str, str], tuple[uuid.UUID, bool]]


@functools.cache
def _upsert_sql() -> str:
    """INSERT … ON CONFLICT DO UPDATE … RETURNING of one record, in psycopg's placeholders.

    Built on first use, once every table is known (a foreign key's column takes its type from
    the table it names).
    """
    insert = postgresql.insert(DATA_RECORDS)
    statement = insert.on_conflict_do_update(
        index_elements=["organisation_id", "source_system", "external_key"],
        set_={name: insert.excluded[name] for name in _UPDATED},
    ).returning(
        DATA_RECORDS.c.id,
        DATA_RECORDS.c.source_system,
        DATA_RECORDS.c.external_key,
        literal_column("xmax = 0"),
    )
    dialect = postgresql_psycopg.dialect()  # type: ignore[no-untyped-call]
    return str(statement.compile(dialect=dialect))


_JSON_COLUMNS = tuple(c.name for c in DATA_RECORDS.columns if isinstance(c.type, JSON))


def _upsert_postgresql(session: Session, rows: list[dict[str, Any]], now: datetime) -> Stored:
    """One upsert per record (INSERT … ON CONFLICT DO UPDATE … RETURNING), pipelined.

    The conflict is found through the unique index whatever the statistics say: a lookup
    query first (as on SQLite) was planned as a scan of the organisation's records while its
    statistics still counted it small, and grew with every batch. SQLAlchemy sends an
    executemany with RETURNING as one multi-row VALUES statement, whose 17,000 placeholders
    psycopg re-parses for every batch (three times the insert itself); psycopg's own
    executemany pipelines one short prepared statement instead, as a plain executemany does
    (bench/ingest.py; one array per column, unnested, measured slower). `xmax = 0` tells an
    inserted row from an updated one.
    """
    for row in rows:
        row["id"], row["created_at"] = new_id(), now
        for name in _JSON_COLUMNS:
            if row[name] is not None:
                row[name] = Json(row[name])
    # psycopg's own cursor, on the session's connection, in its transaction.
    dbapi = session.connection().connection.dbapi_connection
    stored: Stored = {}
    with cast(psycopg.Connection[Any], dbapi).cursor() as cursor:
        try:
            cursor.executemany(_upsert_sql(), rows, returning=True)
        except psycopg.IntegrityError as error:
            # psycopg's own error, not SQLAlchemy's, so the edge's IntegrityError answer does
            # not see it: an account purged since the checks above, say. The request's
            # transaction rolls back whole.
            raise BatchRaced(
                "the batch raced another change of the organisation's accounts; send it again"
            ) from error
        while True:
            for record_id, source_system, external_key, inserted in cursor.fetchall():
                stored[(source_system, external_key)] = (record_id, inserted)
            if not cursor.nextset():
                break
    return stored


def _upsert_by_lookup(session: Session, rows: list[dict[str, Any]], now: datetime) -> Stored:
    """SQLite: one lookup of the keys that exist, one bulk INSERT, one executemany UPDATE."""
    existing = _existing(session, rows)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    stored: Stored = {}
    for row in rows:
        key = (row["source_system"], row["external_key"])
        found = existing.get(key)
        row["id"] = found or new_id()
        if found is None:
            row["created_at"] = now
            inserts.append(row)
        else:
            updates.append(row)
        stored[key] = (row["id"], found is None)
    if inserts:
        # A Core executemany on the session's connection, in its transaction: the ORM's bulk
        # insert costs about as much again per row (bench/ingest.py).
        session.connection().execute(DATA_RECORDS.insert(), inserts)
    if updates:
        # Bulk UPDATE by primary key (organisation_id, id): one executemany.
        session.execute(update(DataRecord), updates)
    return stored


def ingest_records(
    session: Session, ctx: RequestContext, *, items: Sequence[Mapping[str, Any]]
) -> IngestResult:
    """Upsert a batch of records by (source system, external key): all of them, or none."""
    now = utcnow()
    records, errors = check_items(items, now=now)
    if records:
        errors += _database_errors(session, records)
    if errors:
        raise BatchInvalid(sorted(errors, key=lambda e: (e.index, e.field)))
    organisation_id = require_organisation(session)
    rows = [_row(organisation_id, r, now) for r in records]
    # The organisation is checked here: Core statements pass by the ORM's tenancy hook (on
    # PostgreSQL, row-level security checks each row again).
    if any(row["organisation_id"] != organisation_id for row in rows):
        raise TenancyViolation("a data record of another organisation")
    if session.get_bind().dialect.name == "postgresql":
        stored = _upsert_postgresql(session, rows, now)
    else:
        stored = _upsert_by_lookup(session, rows, now)
    results = []
    for r in records:
        record_id, was_created = stored[(r.source_system, r.external_key)]
        results.append(
            {
                "index": r.index,
                "id": str(record_id),
                "external_key": r.external_key,
                "created": was_created,
            }
        )
    created = sum(1 for result in results if result["created"])
    updated = len(results) - created
    counts = {"created": created, "updated": updated, "total": len(records)}
    record_event(
        session,
        ctx,
        action=DataRecordAction.DataRecordsIngest,
        target_type="data_records",
        target_id=organisation_id,
        details=counts,
    )
    publish_event(
        session,
        organisation_id=organisation_id,
        event_type=WebhookEventType.DataRecordsIngested,
        data=counts,
    )
    return IngestResult(created, updated, results)
