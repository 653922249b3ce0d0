"""The organisation's queue as its handlers use it: filters (status, open, overdue, due_before,
kind, account, assigned to me), assignment, and who may read, file and handle at all."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient

from facito_admin.auth.permissions import ROLE_PERMISSIONS, AppRole, Permission
from facito_admin.db.base import utcnow
from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import RequestAction
from tests.api.organisations.helpers import audit_trail
from tests.api.subject_requests.helpers import (
    ADMIN,
    INTEGRATION,
    OFFICER,
    READER,
    Auth,
    act,
    employee,
    file_for,
    file_own,
    person,
    problem,
    queue_url,
)
from tests.conftest import Org


def _ids(client: FlaskClient, org: Org, headers: dict[str, str], **query: Any) -> set[str]:
    response = client.get(queue_url(org), query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return {r["id"] for r in response.get_json()["items"]}


@pytest.fixture
def queue(client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth):
    """Four requests of A (one overdue, one paused past its due time, one new, one answered)
    and one of B."""
    forty_days_ago = utcnow() - timedelta(days=40)
    with time_machine.travel(forty_days_ago, tick=False):
        old_account, old_oid = person(runtime, org_a, 1)
        old = file_own(client, auth(org_a, oid=old_oid))
        _, paused_oid = person(runtime, org_a, 2)
        paused = file_own(client, auth(org_a, oid=paused_oid), kind="erasure")
    with time_machine.travel(forty_days_ago + timedelta(days=5), tick=False):
        asked = act(
            client,
            org_a,
            auth(org_a, OFFICER),
            paused["id"],
            "await-subject",
            {"message": "Which products?"},
        )
        assert asked.status_code == 200
    _, me = employee(runtime, org_a, auth, n=3)
    new = file_own(client, me, kind="question", description="Who sees my files?")
    done = file_own(client, me, kind="access")
    act(client, org_a, auth(org_a, OFFICER), done["id"], "complete", {"summary": "Sent"})
    _, neighbour = employee(runtime, org_b, auth, n=4)
    in_b = file_own(client, neighbour)
    return {
        "old": old["id"],
        "paused": paused["id"],
        "new": new["id"],
        "done": done["id"],
        "b": in_b["id"],
        "old_account": str(old_account),
    }


def test_filters_select_overdue_open_status_kind_account_and_due_before(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth, queue: dict[str, str]
):
    officer = auth(org_a, OFFICER)
    everything = {queue[k] for k in ("old", "paused", "new", "done")}
    assert _ids(client, org_a, officer) == everything
    assert _ids(client, org_a, officer, overdue="true") == {queue["old"]}
    assert _ids(client, org_a, officer, overdue="false") == everything - {queue["old"]}
    assert _ids(client, org_a, officer, open="true") == everything - {queue["done"]}
    assert _ids(client, org_a, officer, open="false") == {queue["done"]}
    assert _ids(client, org_a, officer, status="routed") == {queue["old"], queue["new"]}
    assert _ids(client, org_a, officer, status=["completed", "awaiting_subject"]) == {
        queue["done"],
        queue["paused"],
    }
    assert _ids(client, org_a, officer, kind="question") == {queue["new"]}
    assert _ids(client, org_a, officer, account_id=queue["old_account"]) == {queue["old"]}
    soon = (utcnow() + timedelta(days=1)).isoformat()
    assert queue["old"] in _ids(client, org_a, officer, due_before=soon)
    assert queue["new"] not in _ids(client, org_a, officer, due_before=soon)
    assert _ids(client, org_a, officer, overdue="true", kind="question") == set()
    # B's queue holds B's request alone, whatever the filter.
    b = auth(org_b, OFFICER)
    assert _ids(client, org_b, b) == {queue["b"]}
    assert _ids(client, org_b, b, overdue="true") == set()
    item = client.get(queue_url(org_a, f"/{queue['old']}"), headers=officer).get_json()
    assert item["overdue"] is True


def test_bad_filters_are_422_not_an_empty_queue(
    client: FlaskClient, org_a: Org, auth: Auth, queue: dict[str, str]
):
    officer = auth(org_a, OFFICER)
    for query in (
        {"status": "lost"},
        {"kind": "everything"},
        {"overdue": "maybe"},
        {"due_before": "yesterday"},
        {"account_id": "not-a-uuid"},
        {"limit": "0"},
    ):
        response = client.get(queue_url(org_a), query_string=query, headers=officer)
        problem(response, 422)


def test_a_handler_takes_a_request_or_gives_it_to_a_colleague_and_finds_theirs(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, queue: dict[str, str]
):
    olga = str(uuid.uuid4())
    piet = str(uuid.uuid4())
    as_olga = auth(org_a, OFFICER, oid=olga, name="Olga Officer")
    as_piet = auth(org_a, ADMIN, oid=piet, name="Piet Admin")
    taken = act(client, org_a, as_olga, queue["new"], "assign")
    assert taken.status_code == 200, taken.get_json()
    assert (taken.get_json()["assignee"], taken.get_json()["timeline"][-1]["event"]) == (
        "Olga Officer",
        "assigned",
    )
    given = act(
        client,
        org_a,
        as_piet,
        queue["old"],
        "assign",
        {"assignee_object_id": olga.upper(), "assignee_name": "Olga"},
    )
    assert given.status_code == 200, given.get_json()
    assert given.get_json()["assignee"] == "Olga"
    assert _ids(client, org_a, as_olga, assigned_to_me="true") == {queue["new"], queue["old"]}
    assert _ids(client, org_a, as_piet, assigned_to_me="true") == set()
    # The audit names the assignee by id, never by name.
    events = [e for e in audit_trail(runtime, org_a.id) if e["action"] == RequestAction.Assign]
    assert len(events) == 2
    assert all("Olga" not in str(e["details"]) for e in events)
    # An answered request is not handed out.
    refusal = problem(act(client, org_a, as_olga, queue["done"], "assign"), 409)
    assert refusal["code"] == "dsr-status-conflict"
    malformed = act(client, org_a, as_olga, queue["new"], "assign", {"assignee_object_id": "olga"})
    problem(malformed, 422)


def test_status_conflicts_are_409_problems_naming_the_status_and_what_may_follow(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, _ = employee(runtime, org_a, auth)
    admin = auth(org_a, ADMIN)
    pending = file_for(client, org_a, admin, account, channel="phone").get_json()
    for action, body in (
        ("await-subject", {"message": "Who are you?"}),
        ("complete", {"summary": "Done"}),
        ("resume", {}),
    ):
        refusal = problem(act(client, org_a, admin, pending["id"], action, body), 409)
        assert refusal["code"] == "dsr-status-conflict", action
        assert refusal["request_status"] == "verification_pending", action
    # It may be verified, rejected or withdrawn: the problem says so.
    refused = problem(act(client, org_a, admin, pending["id"], "complete", {"summary": "x"}), 409)
    assert refused["allowed"] == ["cancelled", "rejected", "routed"]
    assert (
        act(client, org_a, admin, pending["id"], "verify", {"method": "call-back"}).status_code
        == 200
    )
    again = problem(act(client, org_a, admin, pending["id"], "verify", {"method": "again"}), 409)
    assert again["request_status"] == "routed"


ROLES = {
    "admin": ((ADMIN,), {}),
    "privacy officer": ((OFFICER,), {}),
    "reader": ((READER,), {}),
    "integration": ((INTEGRATION,), {"app": True}),
    "employee": ((), {}),
    "Facito DPO": (("Facito.PrivacyOfficer",), {}),
}


def _granted(roles: tuple[str, ...]) -> set[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[AppRole(role)]
    return granted


@pytest.mark.parametrize("who", sorted(ROLES))
def test_only_the_roles_with_the_permission_read_file_or_handle_the_queue(
    who: str, client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    roles, kwargs = ROLES[who]
    account, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    headers = auth(None if who == "Facito DPO" else org_a, *roles, **kwargs)
    granted = _granted(roles)
    calls = (
        (Permission.SubjectRequestsRead, "GET", queue_url(org_a), None),
        (Permission.SubjectRequestsRead, "GET", queue_url(org_a, f"/{filed['id']}"), None),
        (
            Permission.SubjectRequestsFile,
            "POST",
            queue_url(org_a),
            {"account_id": str(account), "kind": "erasure", "description": "by mail"},
        ),
        (
            Permission.SubjectRequestsHandle,
            "POST",
            queue_url(org_a, f"/{filed['id']}/assign"),
            {},
        ),
        (
            Permission.SubjectRequestsHandle,
            "POST",
            queue_url(org_a, f"/{filed['id']}/extend"),
            {"days": 2, "reason": "Busy"},
        ),
    )
    for permission, method, url, body in calls:
        response = client.open(url, method=method, json=body, headers=headers)
        label = f"{who}: {method} {url} -> {response.status_code}"
        if permission in granted:
            assert response.status_code in (200, 201), label
        elif who == "Facito DPO":
            # Staff without a support grant: the organisation's queue is not there.
            assert problem(response, 404)["code"] == "not-found", label
        else:
            refusal = problem(response, 403)
            assert refusal["missing_permissions"] == [str(permission)], label
