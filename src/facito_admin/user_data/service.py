"""Linked data records of an account: list and read their metadata, read content under audit,
soft-delete; the same functions serve administrators (by account id) and the employee (their
own account, routes under /v1/me).

An account whose processing is restricted (GDPR art. 18, accounts.models.ProcessingRestriction)
keeps its records, but integrations read none of them: a customer system would copy them
into its own processing. They get 409 `processing-restricted` (not an empty list, which a
system that mirrors us would take for an erasure); people of the organisation still read.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session

from ..accounts.service import account_of_principal, get_account, restriction_in_force
from ..audit.service import record_event
from ..auth.context import PrincipalKind, RequestContext
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..db.tenancy import require_organisation
from ..errors import Conflict, NotFound
from ..policies.categories import CATEGORIES
from ..policies.regions import REGIONS
from .actions import DataRecordAction
from .batch import BatchInvalid, IngestResult, ingest_records
from .models import DataRecord

__all__ = [
    "BatchInvalid",
    "DataSummary",
    "IngestResult",
    "ProcessingRestricted",
    "RecordFilter",
    "data_summary",
    "delete_record",
    "get_record",
    "ingest_records",
    "list_own_records",
    "list_records",
    "own_account_id",
    "own_data_summary",
    "read_content",
    "read_own_content",
    "soft_delete_account_records",
    "soft_delete_records",
]


class ProcessingRestricted(Conflict):
    code, title = "processing-restricted", "The account's processing is restricted"


@dataclass(frozen=True)
class RecordFilter:
    """What a list of records is narrowed to (every field optional)."""

    product: str | None = None
    category: str | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None
    include_deleted: bool = False


@dataclass
class DataSummary:
    """What data an account has, where it is stored and since when (live records only)."""

    account_id: uuid.UUID
    total: int = 0
    sensitive: int = 0
    with_content: int = 0
    deleted: int = 0
    oldest_occurred_at: datetime | None = None
    newest_occurred_at: datetime | None = None
    products: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    storage: list[dict[str, Any]] = field(default_factory=list)


def own_account_id(session: Session, ctx: RequestContext) -> uuid.UUID:
    """The caller's own account (NotFound for an app or a person without one)."""
    return account_of_principal(session, ctx.principal).id


def _check_readable(session: Session, ctx: RequestContext, account_id: uuid.UUID) -> None:
    """Integrations read nothing of an account whose processing is restricted (art. 18)."""
    if ctx.principal.kind is not PrincipalKind.organisation_app:
        return
    restriction = restriction_in_force(session, account_id=account_id)
    if restriction is not None:
        raise ProcessingRestricted(
            "the account's processing is restricted (GDPR art. 18): its data is not given to "
            "other systems until the restriction is lifted",
            extra={"restricted_at": restriction.restricted_at.isoformat()},
        )


def _account_records(account_id: uuid.UUID, *, include_deleted: bool = False) -> Select[Any]:
    query = select(DataRecord).where(DataRecord.account_id == account_id)
    return query if include_deleted else query.where(DataRecord.deleted_at.is_(None))


def _live_record(session: Session, account_id: uuid.UUID, record_id: uuid.UUID) -> DataRecord:
    record = session.get(DataRecord, (require_organisation(session), record_id))
    if record is None or record.account_id != account_id or record.deleted_at is not None:
        raise NotFound("no such data record")
    return record


def get_record(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID, record_id: uuid.UUID
) -> DataRecord:
    """One live record of one account of the session's organisation (metadata and content)."""
    record = _live_record(session, account_id, record_id)
    _check_readable(session, ctx, account_id)
    return record


def list_records(
    session: Session,
    ctx: RequestContext,
    *,
    account_id: uuid.UUID,
    record_filter: RecordFilter,
    limit: int,
    cursor: str | None,
) -> Page[DataRecord]:
    """The account's records in id (time) order, narrowed by ``record_filter``."""
    get_account(session, account_id=account_id)
    _check_readable(session, ctx, account_id)
    query = _account_records(account_id, include_deleted=record_filter.include_deleted)
    if record_filter.product is not None:
        query = query.where(DataRecord.product == record_filter.product)
    if record_filter.category is not None:
        query = query.where(DataRecord.category == record_filter.category)
    if record_filter.occurred_after is not None:
        query = query.where(DataRecord.occurred_at >= record_filter.occurred_after)
    if record_filter.occurred_before is not None:
        query = query.where(DataRecord.occurred_at < record_filter.occurred_before)
    return paginate(session, query, keys=[DataRecord.id], limit=limit, cursor=cursor)


def data_summary(session: Session, ctx: RequestContext, *, account_id: uuid.UUID) -> DataSummary:
    """Totals, counts per product, category and storage location, oldest and newest record."""
    get_account(session, account_id=account_id)
    _check_readable(session, ctx, account_id)
    r = DataRecord
    groups = session.execute(
        select(
            r.product,
            r.category,
            r.subprocessor,
            r.region,
            r.sensitive,
            func.count(),
            func.count(r.content),
            func.min(r.occurred_at),
            func.max(r.occurred_at),
        )
        .where(r.account_id == account_id, r.deleted_at.is_(None))
        .group_by(r.product, r.category, r.subprocessor, r.region, r.sensitive)
    )
    summary = DataSummary(account_id)
    products: dict[str, int] = {}
    categories: dict[str, int] = {}
    storage: dict[tuple[str, str], int] = {}
    for (
        product,
        category,
        subprocessor,
        region,
        sensitive,
        count,
        content,
        oldest,
        newest,
    ) in groups:
        known = CATEGORIES.get(category)
        summary.total += count
        summary.with_content += content
        if sensitive or (known is not None and known.sensitive):
            summary.sensitive += count
        products[product] = products.get(product, 0) + count
        categories[category] = categories.get(category, 0) + count
        storage[(subprocessor, region)] = storage.get((subprocessor, region), 0) + count
        if summary.oldest_occurred_at is None or oldest < summary.oldest_occurred_at:
            summary.oldest_occurred_at = oldest
        if summary.newest_occurred_at is None or newest > summary.newest_occurred_at:
            summary.newest_occurred_at = newest
    summary.deleted = (
        session.scalar(
            select(func.count())
            .select_from(r)
            .where(r.account_id == account_id, r.deleted_at.is_not(None))
        )
        or 0
    )
    summary.products = [{"product": p, "count": n} for p, n in sorted(products.items())]
    summary.categories = [
        {
            "category": c,
            "name": CATEGORIES[c].name if c in CATEGORIES else c,
            "sensitive": c in CATEGORIES and CATEGORIES[c].sensitive,
            "count": n,
        }
        for c, n in sorted(categories.items())
    ]
    summary.storage = [
        {
            "subprocessor": s,
            "region": g,
            "country": REGIONS[g].country if g in REGIONS else None,
            "eea": REGIONS[g].eea if g in REGIONS else None,
            "count": n,
        }
        for (s, g), n in sorted(storage.items())
    ]
    return summary


def read_content(
    session: Session,
    ctx: RequestContext,
    *,
    account_id: uuid.UUID,
    record_id: uuid.UUID,
    own: bool = False,
) -> DataRecord:
    """The record with its content; the read is audited (who read whose content) at once."""
    record = get_record(session, ctx, account_id=account_id, record_id=record_id)
    action = DataRecordAction.OwnDataContentRead if own else DataRecordAction.DataContentRead
    record_event(
        session,
        ctx,
        action=action,
        target_type="data_record",
        target_id=record.id,
        details={
            "account_id": str(record.account_id),
            "record_id": str(record.id),
            "product": record.product,
            "category": record.category,
            "content_ref": record.content_ref is not None,
        },
    )
    return record


def delete_record(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID, record_id: uuid.UUID
) -> None:
    """Soft-delete a record: gone from lists, purged after `retention.deleted_items_days`."""
    record = _live_record(session, account_id, record_id)
    record.deleted_at = utcnow()
    session.flush()
    record_event(
        session,
        ctx,
        action=DataRecordAction.DataRecordDelete,
        target_type="data_record",
        target_id=record.id,
        details={"account_id": str(record.account_id), "category": record.category},
    )


def soft_delete_account_records(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID
) -> int:
    """Soft-delete every live record of an account (e.g. a guardian's consent revoked); how many.

    For other domains: one UPDATE and one audit event (when anything was deleted), in the
    caller's transaction; the caller records its own event for why.
    """
    return sum(soft_delete_records(session, ctx, account_id=account_id).values())


def soft_delete_records(
    session: Session,
    ctx: RequestContext,
    *,
    account_id: uuid.UUID,
    where: Sequence[ColumnElement[bool]] = (),
) -> dict[str, int]:
    """Soft-delete the account's live records that ``where`` (over DataRecord) selects; how
    many per category. As soft_delete_account_records: one UPDATE, one audit event."""
    now = utcnow()
    rows = session.execute(
        update(DataRecord)
        .where(DataRecord.account_id == account_id, DataRecord.deleted_at.is_(None), *where)
        .values(deleted_at=now, updated_at=now)
        .returning(DataRecord.category)
        .execution_options(synchronize_session=False)
    )
    categories = Counter(category for (category,) in rows)
    count = sum(categories.values())
    if count:
        record_event(
            session,
            ctx,
            action=DataRecordAction.DataRecordsDeleteAccount,
            target_type="account",
            target_id=account_id,
            details={"deleted": count},
        )
    return dict(sorted(categories.items()))


# --- the employee's own data (routes under /v1/me): the functions above, on their account ----


def own_data_summary(session: Session, ctx: RequestContext) -> DataSummary:
    """The summary of the caller's own account."""
    return data_summary(session, ctx, account_id=own_account_id(session, ctx))


def list_own_records(
    session: Session,
    ctx: RequestContext,
    *,
    record_filter: RecordFilter,
    limit: int,
    cursor: str | None,
) -> Page[DataRecord]:
    """The caller's own records, as list_records lists an account's."""
    return list_records(
        session,
        ctx,
        account_id=own_account_id(session, ctx),
        record_filter=record_filter,
        limit=limit,
        cursor=cursor,
    )


def read_own_content(session: Session, ctx: RequestContext, *, record_id: uuid.UUID) -> DataRecord:
    """The content of one of the caller's own records (anyone else's: NotFound), audited."""
    account_id = own_account_id(session, ctx)
    return read_content(session, ctx, account_id=account_id, record_id=record_id, own=True)
