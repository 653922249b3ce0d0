"""Graph users as account fields, the page plan, and Retry-After: pure rules, no database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from facito_admin.accounts.models import AccountSource, AccountStatus
from facito_admin.directory_sync.graph import retry_after_seconds
from facito_admin.directory_sync.mapping import DirectoryUser, merge, parse_page, parse_user
from facito_admin.directory_sync.plan import WRITTEN, RunFacts, plan_page

OID = "0b8e5f4c-1d2a-4c3b-9a8f-7e6d5c4b3a21"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FACTS = RunFacts(federation_id=uuid.uuid4(), full=True, now=NOW, retention_days=30)


def test_a_full_listing_entry_states_every_field_and_cleans_them():
    user = parse_user(
        {
            "id": OID.upper(),
            "userPrincipalName": "  Ada@Contoso.example ",
            "displayName": "Ada\x00 Lovelace",
            "surname": "x" * 150,
            "department": "",
            "accountEnabled": False,
        },
        complete=True,
    )
    assert user is not None
    assert user.oid == OID
    assert user.fields["user_principal_name"] == "Ada@Contoso.example"
    assert user.fields["display_name"] == "Ada Lovelace"
    assert user.fields["family_name"] == "x" * 100
    assert user.fields["department"] is None
    assert user.fields["email"] is None  # not in the entry: null in a full listing
    assert user.enabled is False


def test_a_delta_entry_states_only_what_it_carries():
    user = parse_user({"id": OID, "department": "Sales"}, complete=False)
    assert user is not None
    assert user.fields == {"department": "Sales"}
    assert user.enabled is None


def test_removed_entries_and_unusable_ids():
    assert parse_user({"id": OID, "@removed": {"reason": "changed"}}, complete=False) == (
        DirectoryUser(OID, removed="changed")
    )
    odd = parse_user({"id": OID, "@removed": {"reason": "whatever"}}, complete=False)
    assert odd is not None and odd.removed == "deleted"
    users, unusable = parse_page([{"id": "not-a-guid"}, {"displayName": "x"}], complete=True)
    assert (users, unusable) == ([], 2)


def test_duplicates_merge_property_by_property_and_removals_replace():
    first = DirectoryUser(OID, fields={"department": "A", "family_name": "B"}, enabled=True)
    second = DirectoryUser(OID, fields={"department": "C"})
    (merged,) = merge([first, second])
    assert merged.fields == {"department": "C", "family_name": "B"}
    assert merged.enabled is True
    (removed,) = merge([first, DirectoryUser(OID, removed="deleted")])
    assert removed.removed == "deleted"
    (back,) = merge([DirectoryUser(OID, removed="changed"), second])
    assert back == second
    assert DirectoryUser.from_dict(merged.as_dict()) == merged


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("1.5", 1.5), ("0.25", 0.25), ("3", 3.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_in_fractional_seconds(header: str | None, seconds: float | None):
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date():
    now = datetime.now(UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(header, now=now.timestamp()) == pytest.approx(30, abs=1)
    assert retry_after_seconds(format_datetime(now - timedelta(hours=1), usegmt=True)) == 0.0


def _row(n: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(WRITTEN)
    row.update(
        id=uuid.uuid4(),
        version=1,
        user_principal_name=f"u{n}@x.example",
        upn_key=f"u{n}@x.example",
        display_name=f"U{n}",
        name_key=f"u{n}",
        entra_oid=str(uuid.uuid5(uuid.NAMESPACE_URL, str(n))),
        source=AccountSource.graph,
        status=AccountStatus.active,
        status_changed_at=NOW,
        is_minor=False,
        adult_on=None,
        guardian_consent_at=None,
    )
    return row | values


def _user(row: dict[str, Any], upn: str) -> DirectoryUser:
    return DirectoryUser(row["entra_oid"], fields={"user_principal_name": upn}, enabled=True)


def test_a_swap_of_upns_inside_one_page_is_planned_not_deferred():
    one, two = _row(1), _row(2)
    users = [_user(one, "u2@x.example"), _user(two, "u1@x.example")]
    by_oid = {one["entra_oid"]: one, two["entra_oid"]: two}
    plan = plan_page(users, by_oid=by_oid, holders=[one, two], facts=FACTS, final=False)
    assert (plan.counts["updated"], plan.deferred) == (2, [])


def test_a_upn_kept_by_an_account_outside_the_page_defers_the_user_then_conflicts():
    one, two = _row(1), _row(2)
    users = [_user(one, "u2@x.example")]
    by_oid = {one["entra_oid"]: one}
    plan = plan_page(users, by_oid=by_oid, holders=[two], facts=FACTS, final=False)
    assert [u.oid for u in plan.deferred] == [one["entra_oid"]]
    assert plan.changes == []
    assert plan.seen == [one["id"]]  # still found in the directory: not removed at the end
    final = plan_page(users, by_oid=by_oid, holders=[two], facts=FACTS, final=True)
    assert (final.counts["conflicts"], final.deferred) == (1, [])


def test_a_deleted_account_past_its_grace_period_is_not_restored():
    gone = _row(1, status=AccountStatus.deleted, purge_after=NOW - timedelta(seconds=1))
    users = [_user(gone, "u1@x.example")]
    plan = plan_page(users, by_oid={gone["entra_oid"]: gone}, holders=[], facts=FACTS, final=False)
    assert (plan.counts["skipped"], plan.changes) == (1, [])
