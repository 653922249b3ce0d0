"""The list's direct JSON rendering equals the schema's rendering of the same accounts."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from facito_admin.accounts import listing
from facito_admin.accounts.models import Account, AccountSource, AccountStatus
from facito_admin.accounts.schemas import AccountPageSchema, AccountSchema
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from tests.conftest import Org
from tests.factories.accounts import birth_date_for_age, make_account


def test_rendered_rows_equal_the_schema_dump_of_the_same_accounts(runtime, org_a: Org):
    boss = make_account(runtime, org_a.id, "boss")
    make_account(
        runtime,
        org_a.id,
        "full",
        manager_id=boss.id,
        entra_oid=str(uuid.uuid4()),
        external_id="HR-1",
        birth_date=birth_date_for_age(40),
        source=AccountSource.graph,
    )
    make_account(
        runtime, org_a.id, "kid", birth_date=birth_date_for_age(12), status=AccountStatus.disabled
    )
    make_account(
        runtime,
        org_a.id,
        "flag",
        is_minor=True,
        status=AccountStatus.disabled,
        email=None,
        given_name=None,
        family_name=None,
        employee_number=None,
        department=None,
    )
    gone = make_account(runtime, org_a.id, "gone")
    now = utcnow().replace(microsecond=0)
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        session.execute(
            update(Account)
            .where(Account.id == gone.id)
            .values(
                status=AccountStatus.deleted,
                deleted_at=now,
                purge_after=now + timedelta(days=30),
                guardian_consent_at=now,
            )
        )

    with runtime.session(organisation_id=org_a.id) as session:
        for status in (None, AccountStatus.deleted):
            page = listing.fetch_page(
                session,
                listing.AccountFilter(status=status),
                sort="created",
                descending=False,
                limit=50,
                cursor=None,
            )
            rendered = json.loads(listing.render_page(page))
            accounts = session.scalars(
                select(Account)
                .where(Account.id.in_([uuid.UUID(item["id"]) for item in page.items]))
                .order_by(Account.id)
            ).all()
            assert rendered == json.loads(
                json.dumps(AccountPageSchema().dump({"items": accounts, "next_cursor": None}))
            )
            assert rendered["items"]
    assert set(AccountSchema().fields) == set(rendered["items"][0])


@pytest.mark.postgres_only
def test_instants_are_rendered_in_utc_whatever_the_session_time_zone(runtime, org_a: Org):
    account = make_account(runtime, org_a.id, "zoned")
    with runtime.session(organisation_id=org_a.id) as session:
        session.execute(text("SET LOCAL TIME ZONE 'Pacific/Chatham'"))
        page = listing.fetch_page(
            session, listing.AccountFilter(), sort="created", descending=False, limit=5, cursor=None
        )
        stored = session.get(Account, (org_a.id, account.id))
        assert page.items == [json.loads(json.dumps(AccountSchema().dump(stored)))]
