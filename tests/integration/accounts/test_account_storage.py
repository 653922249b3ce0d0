"""What the database itself guarantees: uniqueness, tenant walls, the catalogue is global."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from facito_admin.accounts.models import Account, AccountStatus
from facito_admin.db.base import utcnow
from facito_admin.db.tenancy import GLOBAL_MODELS, TenancyViolation, TenantScoped
from facito_admin.products.models import Entitlement, Product
from tests.conftest import Org
from tests.factories.accounts import grant, insert_accounts, make_account


def test_accounts_and_entitlements_are_tenant_scoped_and_the_catalogue_is_global():
    assert issubclass(Account, TenantScoped)
    assert issubclass(Entitlement, TenantScoped)
    assert not issubclass(Product, TenantScoped)
    assert "Product" in GLOBAL_MODELS


def test_the_database_refuses_a_second_live_account_with_the_same_upn_key(runtime, org_a: Org):
    insert_accounts(runtime, org_a.id, ["One"], upn_key="same@example.com")
    with pytest.raises(IntegrityError):
        insert_accounts(runtime, org_a.id, ["Two"], upn_key="same@example.com")
    insert_accounts(
        runtime,
        org_a.id,
        ["Gone"],
        upn_key="same@example.com",
        status=AccountStatus.deleted,
        deleted_at=utcnow(),
        purge_after=utcnow(),
    )


def test_a_deleted_account_must_carry_its_purge_instant(runtime, org_a: Org):
    with pytest.raises(IntegrityError):
        insert_accounts(runtime, org_a.id, ["Gone"], status=AccountStatus.deleted)


def test_a_session_without_organisation_cannot_read_accounts(runtime, org_a: Org):
    make_account(runtime, org_a.id)
    with runtime.session() as session, pytest.raises(TenancyViolation):
        session.execute(select(Account)).all()


def test_the_orm_shows_a_session_only_its_own_organisations_accounts(
    runtime, org_a: Org, org_b: Org
):
    account = make_account(runtime, org_a.id)
    with runtime.session(organisation_id=org_b.id) as session:
        assert session.execute(select(Account)).all() == []
        assert session.get(Account, (org_a.id, account.id)) is None


@pytest.mark.postgres_only
def test_row_level_security_hides_other_organisations_rows_from_plain_sql(
    runtime, org_a: Org, org_b: Org
):
    account = make_account(runtime, org_a.id)
    grant(runtime, org_a.id, account.id, "microsoft-365")
    with runtime.session(organisation_id=org_b.id) as session:
        assert session.execute(text("SELECT count(*) FROM accounts")).scalar() == 0
        assert session.execute(text("SELECT count(*) FROM entitlements")).scalar() == 0
        assert session.execute(text("SELECT count(*) FROM products")).scalar() > 0
    with runtime.session(organisation_id=org_a.id) as session:
        assert session.execute(text("SELECT count(*) FROM accounts")).scalar() == 1
        assert session.execute(text("SELECT count(*) FROM entitlements")).scalar() == 1
