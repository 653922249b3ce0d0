"""Accounts and entitlements: through the real services, or many rows at once for lists."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from facito_admin.accounts import entitlements
from facito_admin.accounts import service as account_service
from facito_admin.accounts.models import Account, AccountSource, AccountStatus
from facito_admin.accounts.rules import key
from facito_admin.db.base import new_id, utcnow
from facito_admin.db.session import cross_organisation_session, unit_of_work
from facito_admin.products.models import Entitlement, Product, ProductKind
from facito_admin.runtime import Runtime
from tests.factories.audit import admin_ctx
from tests.factories.consents import make_guardian_consent


def account_fields(n: int | str, **overrides: Any) -> dict[str, Any]:
    """A complete, unique set of attributes for account ``n``."""
    fields: dict[str, Any] = {
        "user_principal_name": f"user{n}@example.com",
        "email": f"user{n}@example.com",
        "display_name": f"User {n}",
        "given_name": "User",
        "family_name": str(n),
        "employee_number": f"E{n}",
        "department": "Engineering",
    }
    return fields | overrides


def make_account(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    n: int | str = 1,
    *,
    status: AccountStatus = AccountStatus.active,
    source: AccountSource = AccountSource.manual,
    **overrides: Any,
) -> Account:
    """One account created by the service (audited), committed; returned detached."""
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        return account_service.create_account(
            session,
            admin_ctx(organisation_id),
            fields=account_fields(n, **overrides),
            status=status,
            source=source,
        )


def insert_accounts(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    names: list[str],
    **columns: Any,
) -> list[uuid.UUID]:
    """Many accounts in one statement (no audit events): for lists and benchmarks."""
    now = utcnow()
    rows = []
    for name in names:
        upn = f"{uuid.uuid4().hex[:12]}@bulk.example"
        rows.append(
            {
                "organisation_id": organisation_id,
                "id": new_id(),
                "user_principal_name": upn,
                "upn_key": upn,
                "email": upn,
                "email_key": upn,
                "display_name": name,
                "name_key": key(name),
                "source": AccountSource.manual,
                "status": AccountStatus.active,
                "status_changed_at": now,
                "is_minor": False,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            | columns
        )
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        session.execute(insert(Account), rows)
    return [row["id"] for row in rows]


def grant(runtime: Runtime, organisation_id: uuid.UUID, account_id: uuid.UUID, *codes: str) -> None:
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        for code in codes:
            entitlements.grant_entitlement(
                session, admin_ctx(organisation_id), account_id=account_id, product_code=code
            )


def record_guardian_consent(
    runtime: Runtime, organisation_id: uuid.UUID, account_id: uuid.UUID | str
) -> None:
    """A guardian consent recorded by the consents service (it sets guardian_consent_at)."""
    make_guardian_consent(runtime, organisation_id, account_id)


def read_account(runtime: Runtime, organisation_id: uuid.UUID, account_id: uuid.UUID):
    with runtime.session(organisation_id=organisation_id) as session:
        return session.get(Account, (organisation_id, account_id))


def entitlement_rows(
    runtime: Runtime, organisation_id: uuid.UUID, account_id: uuid.UUID
) -> list[Entitlement]:
    with runtime.session(organisation_id=organisation_id) as session:
        return list(
            session.scalars(
                select(Entitlement)
                .where(Entitlement.account_id == account_id)
                .order_by(Entitlement.granted_at, Entitlement.id)
            )
        )


def birth_date_for_age(years: int, *, days: int = 0) -> date:
    """A birth date that makes someone ``years`` old today, ``days`` later or earlier."""
    today = utcnow().date()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        born = today.replace(year=today.year - years, day=28)
    return born + timedelta(days=days)


def add_product(runtime: Runtime, code: str, *, preview: bool = False) -> None:
    """A catalogue entry beside the seeded ones; remove it with :func:`remove_product`."""
    with unit_of_work(runtime, organisation_id=None) as session:
        session.add(
            Product(
                code=code,
                name=code.title(),
                kind=ProductKind.cloud,
                description="Added by a test",
                preview=preview,
            )
        )


def remove_product(runtime: Runtime, code: str) -> None:
    with unit_of_work(runtime, organisation_id=None) as session:
        product = session.get(Product, code)
        if product is not None:
            session.delete(product)


def search_index_differences(runtime: Runtime) -> set[tuple[Any, ...]]:
    """Rows where the account search index (migration 0018) and the accounts disagree, across
    organisations: none while its triggers keep it in step."""
    with cross_organisation_session(runtime, reason="test: the search index") as session:
        if session.get_bind().dialect.name == "postgresql":
            document = (
                "a.name_key || E'\\x1f' || coalesce(a.email_key, '') || E'\\x1f' || a.upn_key"
            )
            indexed = "SELECT organisation_id, account_id, document FROM account_search"
            expected = f"SELECT a.organisation_id, a.id, {document} FROM accounts a"  # noqa: S608
        else:
            indexed = "SELECT rowid, name_key, email_key, upn_key FROM account_search"
            expected = "SELECT rowid, name_key, email_key, upn_key FROM accounts"
        index = {tuple(row) for row in session.execute(text(indexed))}
        accounts = {tuple(row) for row in session.execute(text(expected))}
    return index ^ accounts
