"""Support access as the engineer, the organisation and its access log see it: no grant, no
organisation; a read-only grant reads and cannot write; expiry and revocation end it at once;
every staff call is in the organisation's access log with its grant."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.runtime import Runtime
from facito_admin.support_access.expiry import close_lapsed_access
from facito_admin.webhooks.events import WebhookEventType
from tests.api.organisations.helpers import audit_trail
from tests.conftest import FACITO_TENANT, Org
from tests.factories.accounts import make_account
from tests.factories.webhooks import deliveries, make_endpoint

from .helpers import (
    ADMIN,
    ENGINEER,
    READER,
    STAFF_URL,
    Auth,
    access_log,
    approve,
    ask,
    decide,
    move_times,
    org_url,
)


def new_account(headers: dict[str, str], client: FlaskClient, org: Org) -> int:
    body = {"user_principal_name": "new.person@example.com", "display_name": "New Person"}
    return client.post(org_url(org, "/accounts"), json=body, headers=headers).status_code


def test_a_read_only_grant_reads_refuses_writes_and_ends_with_revocation(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_account(runtime, org_a.id)
    engineer = auth(None, ENGINEER, oid=str(uuid.uuid4()), name="Sam Support")
    admin = auth(org_a, ADMIN)
    accounts = org_url(org_a, "/accounts")

    assert client.get(accounts, headers=engineer).status_code == 404
    request = ask(client, org_a, engineer)
    assert request["status"] == "pending"
    assert client.get(accounts, headers=engineer).status_code == 404, "pending is no grant"

    approve(client, org_a, admin, request["id"])
    listed = client.get(accounts, headers=engineer)
    assert listed.status_code == 200
    assert len(listed.get_json()["items"]) == 1
    assert client.get(org_url(org_a, "/audit-events"), headers=engineer).status_code == 200
    refused = client.post(
        accounts,
        json={"user_principal_name": "x@example.com", "display_name": "X"},
        headers=engineer,
    )
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == "your support grant's scope does not cover this"
    # Never granted: who gets in, and what staff did.
    assert client.get(org_url(org_a, "/access-log"), headers=engineer).status_code == 403

    revoked = decide(client, org_a, admin, request["id"], "revoke", reason="issue solved")
    assert revoked.status_code == 200
    assert revoked.get_json()["status"] == "revoked"
    assert client.get(accounts, headers=engineer).status_code == 404
    assert client.get(org_url(org_a), headers=engineer).status_code == 404


def test_the_access_log_shows_every_staff_call_with_its_grant_allowed_or_refused(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    oid = str(uuid.uuid4())
    engineer = auth(None, ENGINEER, oid=oid, name="Sam Support")
    admin = auth(org_a, ADMIN)
    client.get(org_url(org_a, "/accounts"), headers=engineer)  # before any grant: 404
    request = ask(client, org_a, engineer)
    approve(client, org_a, admin, request["id"])
    client.get(org_url(org_a, "/accounts"), headers=engineer)
    client.post(org_url(org_a, "/accounts"), json={}, headers=engineer)

    log = access_log(client, org_a, auth(org_a, READER))
    assert [(e["method"], e["status"], e["outcome"]) for e in log] == [
        ("POST", 403, "refused"),
        ("GET", 200, "success"),
        ("GET", 404, "refused"),
    ]
    assert {e["staff_member_id"] for e in log} == {f"{FACITO_TENANT}:{oid}"}
    assert {e["staff_member"] for e in log} == {"Sam Support"}
    assert log[0]["grant_id"] == log[1]["grant_id"] == request["id"]
    assert log[1]["justification"] == request["justification"]
    assert log[1]["ticket_reference"] == "SUP-4711"
    assert log[2]["grant_id"] is None
    assert log[1]["path"] == f"/v1/organisations/{org_a.id}/accounts"
    only_grant = access_log(client, org_a, admin, grant_id=request["id"])
    assert [e["status"] for e in only_grant] == [403, 200]
    # They are events of the organisation's chain, which still verifies.
    verified = client.get(org_url(org_a, "/audit-events/verify"), headers=admin)
    assert verified.get_json()["valid"] is True


def test_a_grant_past_its_end_lets_nobody_in_and_the_expiry_job_records_it(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_endpoint(
        runtime,
        org_a.id,
        "https://hooks.example.com/a",
        event_types=[e.value for e in WebhookEventType if e.value.startswith("support.")],
    )
    engineer = auth(None, ENGINEER, oid=str(uuid.uuid4()))
    request = ask(client, org_a, engineer)
    approve(client, org_a, auth(org_a, ADMIN), request["id"])
    assert client.get(org_url(org_a, "/accounts"), headers=engineer).status_code == 200

    move_times(runtime, request["id"], ends_at=utcnow() - timedelta(seconds=1))
    assert client.get(org_url(org_a, "/accounts"), headers=engineer).status_code == 404
    own = client.get(f"{STAFF_URL}/{request['id']}", headers=engineer).get_json()
    assert own["status"] == "ended", "the status follows the clock before the job runs"

    assert close_lapsed_access(runtime) == 1
    assert close_lapsed_access(runtime) == 0
    actions = [event["action"] for event in audit_trail(runtime, org_a.id)]
    assert "org:support-access:end" in actions
    events = [d.event_type for d in deliveries(runtime, org_a.id)]
    assert events == [
        "support.access_requested",
        "support.access_started",
        "support.access_ended",
    ]


def test_an_unanswered_request_expires_and_can_no_longer_be_approved(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    engineer = auth(None, ENGINEER, oid=str(uuid.uuid4()))
    request = ask(client, org_a, engineer)
    assert request["expires_at"] is not None
    move_times(runtime, request["id"], expires_at=utcnow() - timedelta(seconds=1))
    late = decide(client, org_a, auth(org_a, ADMIN), request["id"], "approve")
    assert late.status_code == 409
    assert late.get_json()["code"] == "support-access-status-conflict"
    assert close_lapsed_access(runtime) == 1
    listed = client.get(
        org_url(org_a, "/support-access-requests"),
        query_string={"status": "expired"},
        headers=auth(org_a, READER),
    ).get_json()["items"]
    assert [item["id"] for item in listed] == [request["id"]]
    # Expired, it no longer blocks a new request.
    ask(client, org_a, engineer)


def test_a_denied_request_gives_no_access(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    engineer = auth(None, ENGINEER, oid=str(uuid.uuid4()))
    request = ask(client, org_a, engineer)
    denied = decide(client, org_a, auth(org_a, ADMIN), request["id"], "deny", reason="not now")
    assert denied.status_code == 200
    assert denied.get_json()["decision_reason"] == "not now"
    assert client.get(org_url(org_a, "/accounts"), headers=engineer).status_code == 404
    again = decide(client, org_a, auth(org_a, ADMIN), request["id"], "approve")
    assert again.status_code == 409


def test_a_read_write_grant_changes_only_the_kinds_it_names(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    engineer = auth(None, ENGINEER, oid=str(uuid.uuid4()))
    request = ask(client, org_a, engineer, access="read-write", resource_kinds=["accounts"])
    approve(client, org_a, auth(org_a, ADMIN), request["id"])
    assert new_account(engineer, client, org_a) == 201
    hold = client.post(
        org_url(org_a, "/legal-holds"), json={"reason": "litigation"}, headers=engineer
    )
    assert hold.status_code == 403
    created = [e for e in audit_trail(runtime, org_a.id) if e["action"] == "org:account:create"]
    assert created[0]["actor_kind"] == "facito_staff"


def test_the_engineer_sees_only_their_own_requests(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth
):
    sam = auth(None, ENGINEER, oid=str(uuid.uuid4()))
    kim = auth(None, ENGINEER, oid=str(uuid.uuid4()))
    mine = ask(client, org_a, sam)
    ask(client, org_b, kim)
    listed = client.get(STAFF_URL, headers=sam).get_json()["items"]
    assert [item["id"] for item in listed] == [mine["id"]]
    assert client.get(f"{STAFF_URL}/{mine['id']}", headers=kim).status_code == 404
    assert client.post(f"{STAFF_URL}/{mine['id']}/release", json={}, headers=kim).status_code == 404
    released = client.post(f"{STAFF_URL}/{mine['id']}/release", json={}, headers=sam)
    assert released.status_code == 200
    assert released.get_json()["status"] == "released"
