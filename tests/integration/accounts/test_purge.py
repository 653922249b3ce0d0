"""The purge after the grace period, through the service a periodic job will call."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import time_machine
from sqlalchemy import func, select

from facito_admin.accounts import lifecycle
from facito_admin.accounts.actions import AccountAction
from facito_admin.accounts.models import Account
from facito_admin.audit.models import AuditEvent
from facito_admin.common.conditional import IfMatch, etag_of
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.products.models import Entitlement
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.accounts import entitlement_rows, grant, make_account, read_account
from tests.factories.audit import admin_ctx


def _delete(runtime: Runtime, org: Org, account: Account) -> datetime:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        current = session.get(Account, (org.id, account.id))
        assert current is not None
        deleted = lifecycle.delete_account(
            session,
            admin_ctx(org.id),
            account_id=account.id,
            if_match=IfMatch.parse(etag_of(current.id, current.version)),
        )
        assert deleted.purge_after is not None
        return deleted.purge_after


def _purge(runtime: Runtime, org: Org, *, now: datetime, limit: int = 500) -> int:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        return lifecycle.purge_due_accounts(session, now=now, limit=limit)


def _purge_events(runtime: Runtime, org: Org) -> list[str]:
    with runtime.session(organisation_id=org.id) as session:
        return list(
            session.scalars(
                select(AuditEvent.target_id)
                .where(AuditEvent.action == AccountAction.AccountPurge)
                .order_by(AuditEvent.seq)
            )
        )


def test_nothing_is_purged_inside_the_grace_period(runtime, org_a: Org):
    account = make_account(runtime, org_a.id)
    purge_after = _delete(runtime, org_a, account)
    assert purge_after - utcnow() <= timedelta(days=30)
    assert purge_after - utcnow() > timedelta(days=29, hours=23)
    assert _purge(runtime, org_a, now=purge_after - timedelta(seconds=1)) == 0
    assert read_account(runtime, org_a.id, account.id) is not None


def test_an_account_past_its_grace_period_is_removed_with_its_entitlements(
    runtime, org_a: Org, org_b: Org
):
    boss = make_account(runtime, org_a.id, "boss")
    report = make_account(runtime, org_a.id, "report", manager_id=boss.id)
    keep = make_account(runtime, org_a.id, "keep")
    grant(runtime, org_a.id, boss.id, "microsoft-365", "sql-server")
    grant(runtime, org_a.id, keep.id, "microsoft-365")
    other = make_account(runtime, org_b.id, "b")
    purge_after = _delete(runtime, org_a, boss)
    _delete(runtime, org_b, other)
    report_version = read_account(runtime, org_a.id, report.id).version

    later = purge_after + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert _purge(runtime, org_a, now=later) == 1

    assert read_account(runtime, org_a.id, boss.id) is None
    assert entitlement_rows(runtime, org_a.id, boss.id) == []
    assert len(entitlement_rows(runtime, org_a.id, keep.id)) == 1
    detached = read_account(runtime, org_a.id, report.id)
    assert detached.manager_id is None
    assert detached.version == report_version + 1
    assert _purge_events(runtime, org_a) == [str(boss.id)]
    # Another organisation's deleted account is its own job's business.
    assert read_account(runtime, org_b.id, other.id) is not None
    assert _purge_events(runtime, org_b) == []
    assert _purge(runtime, org_a, now=later) == 0


def test_a_restored_account_is_not_purged(runtime, org_a: Org):
    account = make_account(runtime, org_a.id)
    purge_after = _delete(runtime, org_a, account)
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        lifecycle.restore_account(session, admin_ctx(org_a.id), account_id=account.id)
    assert _purge(runtime, org_a, now=purge_after + timedelta(days=1)) == 0
    assert read_account(runtime, org_a.id, account.id).status == "active"


def test_the_purge_works_in_batches_and_audits_each_account(runtime, org_a: Org):
    accounts = [make_account(runtime, org_a.id, n) for n in range(5)]
    due = [_delete(runtime, org_a, account) for account in accounts]
    now = max(due) + timedelta(seconds=1)
    assert _purge(runtime, org_a, now=now, limit=2) == 2
    assert _purge(runtime, org_a, now=now, limit=2) == 2
    assert _purge(runtime, org_a, now=now, limit=2) == 1
    assert _purge(runtime, org_a, now=now, limit=2) == 0
    # Oldest deletion first.
    assert _purge_events(runtime, org_a) == [str(a.id) for a in accounts]
    with runtime.session(organisation_id=org_a.id) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0
        assert session.scalar(select(func.count()).select_from(Entitlement)) == 0


def test_purged_accounts_free_their_object_id(runtime, org_a: Org):
    oid = str(uuid.uuid4())
    account = make_account(runtime, org_a.id, entra_oid=oid)
    purge_after = _delete(runtime, org_a, account)
    _purge(runtime, org_a, now=purge_after + timedelta(seconds=1))
    again = make_account(runtime, org_a.id, entra_oid=oid)
    assert again.entra_oid == oid
