"""Querying the audit log: confined to the organisation, filtered, keyset-paginated, permitted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from facito_admin.audit_retention.sealing import seal_waiting_events
from facito_admin.db.base import utcnow
from tests.conftest import Org
from tests.factories.audit import record_events, record_unsealed
from tests.factories.support_access import grant_access


def _url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/audit-events{suffix}"


def _all_pages(client, url: str, headers: dict[str, str], **params) -> list[dict]:
    items: list[dict] = []
    query = dict(params)
    while True:
        response = client.get(url, headers=headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items.extend(body["items"])
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            return items
        link = response.headers["Link"]
        assert link.endswith('>; rel="next"')
        query = {k: v[0] for k, v in parse_qs(urlsplit(link[1:-13]).query).items()}
        assert query["cursor"] == body["next_cursor"]


def test_an_administrator_lists_the_events_newest_first(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, 3)
    response = client.get(_url(org_a), headers=auth(org_a, "Organisation.Admin"))
    assert response.status_code == 200
    items = response.get_json()["items"]
    # The organisation's creation is event 1 of its chain.
    assert [e["seq"] for e in items] == [4, 3, 2, 1]
    assert items[-1]["action"] == "facito:organisation:create"
    assert {e["organisation_id"] for e in items} == {str(org_a.id)}
    assert items[0]["occurred_at"].endswith("Z")
    assert items[1]["hash"] == items[0]["prev_hash"]


def test_oldest_first_on_request(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, 2)
    response = client.get(
        _url(org_a), headers=auth(org_a, "Organisation.Admin"), query_string={"order": "asc"}
    )
    assert [e["seq"] for e in response.get_json()["items"]] == [1, 2, 3]


def test_events_of_one_organisation_are_invisible_to_another(client, auth, runtime, org_a, org_b):
    mine = {str(e.id) for e in record_events(runtime, org_a.id, 3)}
    admin_b = auth(org_b, "Organisation.Admin")
    for suffix in ("", "/export", "/verify"):
        assert client.get(_url(org_a, suffix), headers=admin_b).status_code == 404
    items = _all_pages(client, _url(org_b), admin_b)
    assert {e["organisation_id"] for e in items} == {str(org_b.id)}
    assert not mine & {e["id"] for e in items}
    export = client.get(_url(org_b, "/export"), headers=admin_b).get_data(as_text=True)
    assert not any(event_id in export for event_id in mine)


def test_filters_by_actor_action_and_target(client, auth, runtime, org_a, org_b):
    alice, bob = "0000a11c-0000-4000-8000-000000000001", "00000b0b-0000-4000-8000-000000000002"
    record_events(runtime, org_a.id, 2, oid=alice, action="org:domain:claim", target_id="d-1")
    record_events(runtime, org_a.id, 1, oid=bob, action="org:domain:verify", target_id="d-1")
    record_events(runtime, org_a.id, 1, oid=bob, action="org:federation:attach")
    record_events(runtime, org_b.id, 1, oid=alice, action="org:domain:claim", target_id="d-1")
    headers = auth(org_a, "Organisation.Admin")

    def seqs(**params) -> list[int]:
        return sorted(e["seq"] for e in _all_pages(client, _url(org_a), headers, **params))

    assert seqs(actor=alice) == [2, 3]
    assert seqs(actor=bob) == [4, 5]
    assert seqs(action="org:domain:claim") == [2, 3]
    assert seqs(action="org:domain:*") == [2, 3, 4]
    assert seqs(action="org:*") == [2, 3, 4, 5]
    assert seqs(action="*") == [1, 2, 3, 4, 5]
    assert seqs(action="org:domain:") == []
    assert seqs(target="d-1") == [2, 3, 4]
    assert seqs(target="d-1", actor=bob) == [4]
    assert seqs(action="org:domain:*", actor=alice, target="d-1") == [2, 3]


def test_a_prefix_filter_treats_like_wildcards_literally(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, 1, action="org:domain_x:claim")
    record_events(runtime, org_a.id, 1, action="org:domainyx:claim")
    items = _all_pages(
        client, _url(org_a), auth(org_a, "Organisation.Admin"), action="org:domain_*"
    )
    assert [e["action"] for e in items] == ["org:domain_x:claim"]


def test_since_and_until_select_a_time_window(client, auth, runtime, org_a, org_b):
    for day in (1, 2, 3):
        with time_machine.travel(datetime(2030, 1, day, 12, tzinfo=UTC), tick=False):
            record_events(runtime, org_a.id, 1, target_id=f"day-{day}")
    headers = auth(org_a, "Organisation.Admin")

    def targets(**params) -> list[str]:
        items = _all_pages(client, _url(org_a), headers, order="asc", **params)
        return [e["target_id"] for e in items if e["target_id"].startswith("day-")]

    assert targets(since="2030-01-02T12:00:00Z") == ["day-2", "day-3"]
    assert targets(until="2030-01-02T12:00:00Z") == ["day-1"]
    # The same instant written in Amsterdam time (UTC+1 in January).
    assert targets(since="2030-01-02T13:00:00+01:00", until="2030-01-03T00:00:00Z") == ["day-2"]
    assert targets(since="2030-01-02T12:00:00.000001Z") == ["day-3"]


def test_pages_follow_next_cursor_and_link_without_gaps(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, 11)
    headers = auth(org_a, "Organisation.Admin")
    newest_first = _all_pages(client, _url(org_a), headers, limit=3)
    assert [e["seq"] for e in newest_first] == list(range(12, 0, -1))
    oldest_first = _all_pages(client, _url(org_a), headers, limit=5, order="asc")
    assert [e["seq"] for e in oldest_first] == list(range(1, 13))


def test_the_link_keeps_the_filters_of_the_first_page(client, auth, runtime, org_a, org_b):
    with time_machine.travel(datetime(2030, 5, 1, tzinfo=UTC), tick=False):
        record_events(runtime, org_a.id, 5, action="org:domain:verify")
    headers = auth(org_a, "Organisation.Admin")
    items = _all_pages(
        client,
        _url(org_a),
        headers,
        limit=2,
        action="org:domain:*",
        since="2030-05-01T02:00:00+02:00",
    )
    assert [e["seq"] for e in items] == [6, 5, 4, 3, 2]


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2030-01-01T00:00:00"},
        {"until": "2030-01-01"},
        {"since": "yesterday"},
        {"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"},
        {"action": "org*:domain"},
        {"action": "ORG:DOMAIN:*"},
        {"order": "sideways"},
        {"limit": "0"},
        {"limit": "201"},
        {"cursor": "not-a-cursor"},
        {"actor": "x" * 37},
    ],
)
def test_invalid_arguments_are_refused_with_422(client, auth, org_a, org_b, params):
    response = client.get(
        _url(org_a), headers=auth(org_a, "Organisation.Admin"), query_string=params
    )
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("suffix", ["", "/export", "/verify"])
@pytest.mark.parametrize(
    ("roles", "app_only", "status"),
    [
        (("Organisation.Admin",), False, 200),
        (("Privacy.Officer",), False, 200),
        (("Organisation.Reader",), False, 403),
        (("Integration.ReadWrite",), True, 403),
        ((), False, 403),
    ],
)
def test_only_roles_with_audit_read_see_the_log(
    client, auth, org_a, org_b, suffix, roles, app_only, status
):
    response = client.get(_url(org_a, suffix), headers=auth(org_a, *roles, app=app_only))
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["missing_permissions"] == ["org:audit:read"]
    assert (
        client.get(_url(org_b, suffix), headers=auth(org_a, *roles, app=app_only)).status_code
        == 404
    )


def test_operators_read_an_organisations_log_only_through_a_grant(
    client, runtime, auth, org_a, org_b
):
    oid = str(uuid.uuid4())
    operator = auth(None, "Facito.Operator", oid=oid)
    assert client.get(_url(org_a), headers=operator).status_code == 404
    grant_access(runtime, org_a.id, oid)
    response = client.get(_url(org_a), headers=operator)
    assert {e["organisation_id"] for e in response.get_json()["items"]} == {str(org_a.id)}
    assert client.get(_url(org_b), headers=operator).status_code == 404
    unknown = Org(id=uuid.uuid4(), slug="nope", tenant_id="")
    for suffix in ("", "/export", "/verify"):
        assert client.get(_url(unknown, suffix), headers=operator).status_code == 404


def test_unauthenticated_callers_get_401(client, org_a):
    assert client.get(_url(org_a)).status_code == 401


def test_verify_reports_an_intact_chain(client, auth, runtime, org_a, org_b):
    events = record_events(runtime, org_a.id, 4)
    response = client.get(_url(org_a, "/verify"), headers=auth(org_a, "Privacy.Officer"))
    assert response.status_code == 200
    assert response.get_json() == {
        "valid": True,
        "checked": 5,
        "first_broken": None,
        "pruned": None,
        "head": {"seq": 5, "hash": events[-1].hash},
        "waiting": {"count": 0, "oldest_recorded_at": None},
        "checkpoint": None,
    }


def test_verify_counts_events_still_waiting_for_the_sealer_until_the_scan_seals_them(
    client, auth, runtime, org_a, org_b
):
    events = record_events(runtime, org_a.id, 2)
    record_unsealed(runtime, org_a.id, 3)
    report = client.get(_url(org_a, "/verify"), headers=auth(org_a, "Privacy.Officer")).get_json()
    assert (report["valid"], report["checked"]) == (True, 3)
    assert report["head"] == {"seq": 3, "hash": events[-1].hash}
    assert report["waiting"]["count"] == 3
    assert datetime.fromisoformat(report["waiting"]["oldest_recorded_at"]) <= utcnow()
    # Org B has nothing waiting and learns nothing of A's.
    report_b = client.get(_url(org_b, "/verify"), headers=auth(org_b, "Privacy.Officer"))
    assert report_b.get_json()["waiting"] == {"count": 0, "oldest_recorded_at": None}

    assert seal_waiting_events(runtime) == 3

    report = client.get(_url(org_a, "/verify"), headers=auth(org_a, "Privacy.Officer")).get_json()
    assert (report["valid"], report["checked"], report["head"]["seq"]) == (True, 6, 6)
    assert report["waiting"] == {"count": 0, "oldest_recorded_at": None}
