"""The purge after the grace period takes a SCIM user's group memberships with it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from facito_admin.accounts.lifecycle import purge_due_accounts
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.groups.models import GroupMember
from tests.api.scim.conftest import SCIM, create_group, create_user


def test_purging_a_deleted_account_removes_its_memberships(
    client, runtime, org_a, org_b, scim_a, scim_b
):
    leaver = create_user(client, scim_a, "leaver@example.com")
    stayer = create_user(client, scim_a, "stayer@example.com")
    group = create_group(client, scim_a, "Team", leaver["id"], stayer["id"])
    other = create_user(client, scim_b, "other@example.com")
    create_group(client, scim_b, "Team", other["id"])
    client.delete(f"{SCIM}/Users/{leaver['id']}", headers=scim_a)

    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        assert purge_due_accounts(session, now=utcnow() + timedelta(days=31)) == 1

    members = client.get(f"{SCIM}/Groups/{group['id']}", headers=scim_a).json["members"]
    assert [m["value"] for m in members] == [stayer["id"]]
    with runtime.session(organisation_id=org_a.id) as session:
        assert len(session.scalars(select(GroupMember)).all()) == 1
    with runtime.session(organisation_id=org_b.id) as session:
        assert len(session.scalars(select(GroupMember)).all()) == 1
