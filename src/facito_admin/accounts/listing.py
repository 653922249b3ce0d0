"""The account list's hot path: a select of table columns, rendered straight to JSON.

The list is the busiest read of the API (admin portals and sync checks page through it), so it
selects mapped columns (rows, no entity construction) and skips marshmallow. Selecting the
mapped attributes rather than the table keeps the ORM's organisation criteria in force (the
tenancy guard refuses Core statements on tenant tables); the explicit organisation filter
leads the index, and on PostgreSQL row-level security still applies underneath.

The rendering must equal ``AccountSchema().dump(account)`` field for field (the test
tests/integration/accounts/test_account_listing.py holds the two together), so a field added
to the schema goes into COLUMNS and render_page as well.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, or_, select
from sqlalchemy.orm import Session

from ..common.pagination import Page, paginate_rows
from ..db.base import utcnow
from ..db.tenancy import require_organisation
from . import rules
from .models import Account, AccountStatus

# The order render_page unpacks.
COLUMNS: tuple[ColumnElement[Any], ...] = tuple(
    getattr(Account, name)
    for name in (
        "id",
        "organisation_id",
        "user_principal_name",
        "email",
        "display_name",
        "name_key",
        "given_name",
        "family_name",
        "employee_number",
        "department",
        "manager_id",
        "entra_oid",
        "source",
        "external_id",
        "status",
        "status_changed_at",
        "deleted_at",
        "purge_after",
        "birth_date",
        "is_minor",
        "adult_on",
        "guardian_consent_at",
        "created_at",
        "updated_at",
    )
)
SORT_KEYS = {"created": (Account.id,), "name": (Account.name_key, Account.id)}


def list_query(
    session: Session,
    *,
    status: AccountStatus | None,
    source: str | None,
    department: str | None,
    q: str | None,
) -> Select[Any]:
    """The filtered select of the session's organisation's accounts (unordered)."""
    c = Account
    query = select(*COLUMNS).where(c.organisation_id == require_organisation(session))
    if status is None:
        query = query.where(c.status != AccountStatus.deleted)
    else:
        query = query.where(c.status == status)
    if source is not None:
        query = query.where(c.source == source)
    if department is not None:
        query = query.where(c.department == department)
    if q is not None:
        pattern = rules.search_pattern(q)
        query = query.where(
            or_(
                c.name_key.like(pattern, escape="\\"),
                c.email_key.like(pattern, escape="\\"),
                c.upn_key.like(pattern, escape="\\"),
            )
        )
    return query


def fetch_page(
    session: Session,
    query: Select[Any],
    *,
    sort: str,
    descending: bool,
    limit: int,
    cursor: str | None,
) -> Page[Row[Any]]:
    return paginate_rows(
        session, query, keys=SORT_KEYS[sort], limit=limit, cursor=cursor, descending=descending
    )


def _ts(value: datetime | None) -> str | None:
    # OutputSchema's format (microseconds, `Z`); the values are aware UTC datetimes.
    return None if value is None else value.isoformat(timespec="microseconds")[:-6] + "Z"


def render_page(page: Page[Row[Any]]) -> str:
    """The page as the JSON body AccountPageSchema describes."""
    today = utcnow().date()
    items = []
    rows: list[tuple[Any, ...]] = [tuple(row) for row in page.items]
    for (
        id_,
        organisation_id,
        upn,
        email,
        display_name,
        _name_key,
        given_name,
        family_name,
        employee_number,
        department,
        manager_id,
        entra_oid,
        source,
        external_id,
        status,
        status_changed_at,
        deleted_at,
        purge_after,
        birth_date,
        is_minor,
        adult_on,
        guardian_consent_at,
        created_at,
        updated_at,
    ) in rows:
        items.append(
            {
                "id": str(id_),
                "organisation_id": str(organisation_id),
                "user_principal_name": upn,
                "email": email,
                "display_name": display_name,
                "given_name": given_name,
                "family_name": family_name,
                "employee_number": employee_number,
                "department": department,
                "manager_id": None if manager_id is None else str(manager_id),
                "entra_oid": entra_oid,
                "source": source.value,
                "external_id": external_id,
                "status": status.value,
                "status_changed_at": _ts(status_changed_at),
                "deleted_at": _ts(deleted_at),
                "purge_after": _ts(purge_after),
                "birth_date": None if birth_date is None else birth_date.isoformat(),
                # Account.minor_on, without the entity.
                "is_minor": is_minor if adult_on is None else today < adult_on,
                "guardian_consent_at": _ts(guardian_consent_at),
                "created_at": _ts(created_at),
                "updated_at": _ts(updated_at),
            }
        )
    return json.dumps({"items": items, "next_cursor": page.next_cursor}, separators=(",", ":"))
