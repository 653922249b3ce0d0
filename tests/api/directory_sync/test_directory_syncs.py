"""The directory sync API: start a sync (202 + job), one at a time, list runs, schedule."""

from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.directory_sync.actions import DirectorySyncAction
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Federation, FederationStatus
from tests.api.organisations.helpers import audit_trail
from tests.conftest import Org
from tests.factories.directory_sync import federation_of
from tests.fakes.graph import FakeGraph

ADMIN = "Organisation.Admin"


def _url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/directory-syncs{suffix}"


def _add_federation(runtime: Runtime, org: Org, tenant_id: str, status: FederationStatus) -> str:
    with unit_of_work(runtime, organisation_id=None) as session:
        federation = Federation(
            organisation_id=org.id, tenant_id=tenant_id, status=status, consented_at=utcnow()
        )
        session.add(federation)
        session.flush()
        return str(federation.id)


def _wait(client: FlaskClient, location: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        job = client.get(location, headers=headers).get_json()
        if job["finished_at"] is not None or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_a_sync_started_by_api_is_followed_to_its_accounts(
    client: FlaskClient,
    runtime: Runtime,
    consumer,
    graph: FakeGraph,
    org_a: Org,
    org_b: Org,
    auth,
):
    graph.add_range(0, 40)
    graph.page_size = 15
    admin = auth(org_a, ADMIN)
    response = client.post(_url(org_a), json={"mode": "full"}, headers=admin)
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert response.headers["Location"] == f"/v1/organisations/{org_a.id}/jobs/{job['id']}"
    assert (job["kind"], job["state"]) == ("directory-sync", "queued")
    assert job["params"] == {"federation_id": str(federation_of(runtime, org_a)), "mode": "full"}

    finished = _wait(client, response.headers["Location"], admin)
    assert finished["state"] == "succeeded", finished["error"]
    assert finished["result"]["created"] == 40
    listed = client.get(f"/v1/organisations/{org_a.id}/accounts?limit=200", headers=admin)
    assert len(listed.get_json()["items"]) == 40
    runs = client.get(_url(org_a), headers=auth(org_a, "Organisation.Reader")).get_json()
    assert [run["id"] for run in runs["items"]] == [job["id"]]

    # Organisation B sees none of it, and cannot reach A's syncs.
    b_admin = auth(org_b, ADMIN)
    assert (
        client.get(f"/v1/organisations/{org_b.id}/accounts", headers=b_admin).get_json()["items"]
        == []
    )
    assert client.get(_url(org_b), headers=b_admin).get_json()["items"] == []
    assert client.get(_url(org_a), headers=b_admin).status_code == 404
    assert client.post(_url(org_a), json={}, headers=b_admin).status_code == 404
    assert (
        client.get(f"/v1/organisations/{org_a.id}/jobs/{job['id']}", headers=b_admin).status_code
        == 404
    )


def test_a_second_sync_of_the_same_federation_waits_for_the_first(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth
):
    admin = auth(org_a, ADMIN)
    first = client.post(_url(org_a), json={}, headers=admin)
    assert first.status_code == 202
    second = client.post(_url(org_a), json={"mode": "full"}, headers=admin)
    assert second.status_code == 409
    problem = second.get_json()
    assert problem["code"] == "sync-in-progress"
    assert problem["job_id"] == first.get_json()["id"]
    # B's own federation is free; A's sync is none of B's business.
    b_admin = auth(org_b, ADMIN)
    assert client.post(_url(org_b), json={}, headers=b_admin).status_code == 202
    assert client.post(_url(org_a), json={}, headers=b_admin).status_code == 404
    b_runs = client.get(_url(org_b), headers=b_admin).get_json()["items"]
    assert first.get_json()["id"] not in [run["id"] for run in b_runs]
    actions = [e["action"] for e in audit_trail(runtime, org_a.id)]
    assert actions.count(DirectorySyncAction.DirectorySyncStart) == 1
    start = next(
        e
        for e in audit_trail(runtime, org_a.id)
        if e["action"] == DirectorySyncAction.DirectorySyncStart
    )
    assert start["details"] == {
        "job_id": first.get_json()["id"],
        "mode": "delta",
        "scheduled": False,
    }


def test_which_federation_to_sync_and_who_may_start_one(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth, operator
):
    admin = auth(org_a, ADMIN)
    assert (
        client.post(_url(org_a), json={}, headers=auth(org_a, "Organisation.Reader")).status_code
        == 403
    )
    pending = _add_federation(
        runtime, org_a, "cccccccc-0000-4000-8000-00000000000c", FederationStatus.pending_consent
    )
    refused = client.post(_url(org_a), json={"federation_id": pending}, headers=admin)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "invalid-state")
    unknown = client.post(
        _url(org_a), json={"federation_id": str(federation_of(runtime, org_b))}, headers=admin
    )
    assert unknown.status_code == 404
    assert client.post(_url(org_a), json={"mode": "sideways"}, headers=admin).status_code == 422
    assert client.post(_url(org_a), json={"tenant": "x"}, headers=admin).status_code == 422

    _add_federation(runtime, org_a, "dddddddd-0000-4000-8000-00000000000d", FederationStatus.active)
    several = client.post(_url(org_a), json={}, headers=admin)
    assert several.status_code == 422
    assert several.get_json()["errors"][0]["field"] == "federation_id"
    named = client.post(
        _url(org_a), json={"federation_id": str(federation_of(runtime, org_a))}, headers=operator
    )
    assert named.status_code == 202
    assert named.get_json()["created_by"] != ""
    b_admin = auth(org_b, ADMIN)
    assert (
        client.post(_url(org_a), json={"federation_id": pending}, headers=b_admin).status_code
        == 404
    )
    assert client.get(_url(org_b), headers=b_admin).get_json()["items"] == []


def test_the_schedule_of_a_federation_is_read_and_set(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth
):
    federation_id = federation_of(runtime, org_a)
    url = _url(org_a, f"/federations/{federation_id}")
    admin = auth(org_a, ADMIN)
    state = client.get(url, headers=auth(org_a, "Organisation.Reader")).get_json()
    assert state["schedule_enabled"] is False
    assert (state["has_delta_link"], state["last_job_id"]) == (False, None)
    assert "delta_link" not in state

    changed = client.patch(url, json={"interval_minutes": 120}, headers=admin)
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["schedule_enabled"], changed.get_json()["interval_minutes"]) == (
        True,
        120,
    )
    assert client.patch(url, json={}, headers=admin).status_code == 422
    assert client.patch(url, json={"interval_minutes": 1}, headers=admin).status_code == 422
    off = client.patch(url, json={"enabled": False}, headers=admin).get_json()
    assert (off["schedule_enabled"], off["interval_minutes"]) == (False, 120)
    events = [
        e
        for e in audit_trail(runtime, org_a.id)
        if e["action"] == DirectorySyncAction.DirectorySyncSchedule
    ]
    assert [e["details"] for e in events] == [
        {"enabled": True, "interval_minutes": 120},
        {"enabled": False, "interval_minutes": 120},
    ]

    b_admin = auth(org_b, ADMIN)
    assert client.get(url, headers=b_admin).status_code == 404
    assert client.patch(url, json={"enabled": True}, headers=b_admin).status_code == 404
    # Another organisation's federation, on one's own path: no such federation.
    foreign = _url(org_b, f"/federations/{federation_id}")
    assert client.get(foreign, headers=b_admin).status_code == 404
