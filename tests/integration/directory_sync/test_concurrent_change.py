"""A page's write checks the versions it read: an account edited meanwhile is not overwritten."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from facito_admin.accounts import service as account_service
from facito_admin.accounts.models import Account
from facito_admin.common.conditional import IfMatch, etag_of
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.directory_sync.apply import READ, ConcurrentChange, write_plan
from facito_admin.directory_sync.mapping import DirectoryUser
from facito_admin.directory_sync.plan import RunFacts, plan_page
from tests.conftest import Org
from tests.factories.audit import admin_ctx
from tests.factories.directory_sync import SyncHarness, federation_of
from tests.fakes.graph import FakeGraph, object_id


def test_an_account_edited_between_read_and_write_makes_the_page_start_over(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    graph.add_range(0, 2)
    syncs.run(org_a, "full")
    runtime = syncs.runtime
    facts = RunFacts(
        federation_id=federation_of(runtime, org_a),
        full=False,
        now=utcnow(),
        retention_days=30,
    )
    user = DirectoryUser(object_id(1), fields={"department": "Finance"})
    with runtime.session(organisation_id=org_a.id) as reading:
        rows = [dict(r._mapping) for r in reading.execute(select(*READ)).all()]
    by_oid = {row["entra_oid"]: row for row in rows}
    plan = plan_page([user], by_oid=by_oid, holders=[], facts=facts, final=False)
    assert len(plan.changes) == 1

    account = by_oid[object_id(1)]
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        account_service.update_account(
            session,
            admin_ctx(org_a.id),
            account_id=account["id"],
            if_match=IfMatch.parse(etag_of(account["id"], account["version"])),
            changes={"department": "Legal"},
        )
    with (
        pytest.raises(ConcurrentChange),
        unit_of_work(runtime, organisation_id=org_a.id) as session,
    ):
        write_plan(session, admin_ctx(org_a.id), plan, facts=facts)
    with runtime.session(organisation_id=org_a.id) as session:
        kept = session.get(Account, (org_a.id, account["id"]))
        assert kept is not None and kept.department == "Legal"
