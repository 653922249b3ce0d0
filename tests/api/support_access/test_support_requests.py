"""Asking for support access: the scope and the hours the organisation's policy allows, one
open request at a time, grants that start at once where no approval is required, and an
organisation that sees and decides only its own requests."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from facito_admin.webhooks.events import WebhookEventType
from tests.api.contracts.helpers import create_contract
from tests.conftest import Org
from tests.factories.webhooks import deliveries, make_endpoint

from .helpers import (
    ADMIN,
    ENGINEER,
    OFFICER,
    OPERATOR,
    READER,
    STAFF_URL,
    Auth,
    ask,
    decide,
    org_url,
    request_body,
)


def test_a_request_longer_than_the_policy_allows_is_refused_with_the_limit(
    client: FlaskClient, org_a: Org, auth: Auth
):
    engineer = auth(None, ENGINEER)
    response = client.post(STAFF_URL, json=request_body(org_a, duration_hours=9), headers=engineer)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "support-access-too-long"
    assert body["errors"][0]["field"] == "duration_hours"
    assert "8" in body["errors"][0]["message"]


def test_scopes_that_cannot_be_granted_are_refused(client: FlaskClient, org_a: Org, auth: Auth):
    engineer = auth(None, ENGINEER)
    for body in (
        {"access": "read-write"},
        {"access": "read-write", "resource_kinds": ["scim-tokens"]},
        {"access": "read-only", "resource_kinds": ["accounts"]},
        {"access": "everything"},
        {"organisation_id": str(uuid.uuid4())},
        {"justification": "short"},
        {"duration_hours": 0},
    ):
        response = client.post(STAFF_URL, json=request_body(org_a, **body), headers=engineer)
        assert response.status_code == 422, body
        assert response.mimetype == "application/problem+json"


def test_one_open_request_per_engineer_and_organisation(
    client: FlaskClient, org_a: Org, auth: Auth
):
    engineer = auth(None, ENGINEER, oid=str(uuid.uuid4()))
    first = ask(client, org_a, engineer)
    again = client.post(STAFF_URL, json=request_body(org_a), headers=engineer)
    assert again.status_code == 409
    assert again.get_json()["code"] == "support-access-open"
    assert again.get_json()["support_access_request_id"] == first["id"]
    # Another engineer asks on their own account.
    ask(client, org_a, auth(None, ENGINEER, oid=str(uuid.uuid4())))


def test_where_no_approval_is_required_the_grant_starts_at_once_and_the_organisation_hears(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    create_contract(
        client,
        org_a,
        auth(None, OPERATOR),
        overrides={"support_access.approval_required": False},
    )
    make_endpoint(
        runtime,
        org_a.id,
        "https://hooks.example.com/a",
        event_types=[WebhookEventType.SupportAccessStarted.value],
    )
    engineer = auth(None, ENGINEER, oid=str(uuid.uuid4()))
    request = ask(client, org_a, engineer)
    assert request["status"] == "active"
    assert request["approval_required"] is False
    assert client.get(org_url(org_a, "/accounts"), headers=engineer).status_code == 200
    started = deliveries(runtime, org_a.id)
    assert [d.event_type for d in started] == ["support.access_started"]
    assert started[0].payload["data"]["ticket_reference"] == "SUP-4711"


def test_the_organisation_lists_and_decides_only_its_own_requests(
    client: FlaskClient, org_a: Org, org_b: Org, auth: Auth
):
    engineer = auth(None, ENGINEER, oid=str(uuid.uuid4()))
    for_a = ask(client, org_a, engineer)
    for_b = ask(client, org_b, engineer)
    listed = client.get(
        org_url(org_a, "/support-access-requests"), headers=auth(org_a, OFFICER)
    ).get_json()["items"]
    assert [item["id"] for item in listed] == [for_a["id"]]
    admin_a = auth(org_a, ADMIN)
    assert decide(client, org_a, admin_a, for_b["id"], "approve").status_code == 404
    other_path = org_url(org_b, f"/support-access-requests/{for_b['id']}")
    assert client.get(other_path, headers=admin_a).status_code == 404
    assert decide(client, org_b, admin_a, for_b["id"], "approve").status_code == 404
    assert client.get(org_url(org_b, "/access-log"), headers=admin_a).status_code == 404


def test_readers_and_privacy_officers_watch_but_only_administrators_decide(
    client: FlaskClient, org_a: Org, auth: Auth
):
    request = ask(client, org_a, auth(None, ENGINEER, oid=str(uuid.uuid4())))
    for role in (READER, OFFICER):
        headers = auth(org_a, role)
        assert client.get(org_url(org_a, "/access-log"), headers=headers).status_code == 200
        refused = decide(client, org_a, headers, request["id"], "approve")
        assert refused.status_code == 403
    # An approval may shorten the grant, not lengthen it.
    longer = decide(client, org_a, auth(org_a, ADMIN), request["id"], "approve", duration_hours=5)
    assert longer.status_code == 422
    shorter = decide(client, org_a, auth(org_a, ADMIN), request["id"], "approve", duration_hours=1)
    assert shorter.get_json()["duration_hours"] == 1


def test_an_operator_without_a_grant_manages_the_profile_but_reaches_nothing_personal(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    operator = auth(None, OPERATOR, oid=str(uuid.uuid4()))
    for suffix in ("/accounts", "/audit-events", "/jobs", "/data-subject-requests"):
        response = client.get(org_url(org_a, suffix), headers=operator)
        assert response.status_code == 404, suffix
        assert response.get_json()["detail"] == "no such organisation"
    profile = client.get(org_url(org_a), headers=operator)
    assert profile.status_code == 200
    renamed = client.patch(
        org_url(org_a),
        json={"name": "Acme Renamed"},
        headers=operator | {"If-Match": profile.headers["ETag"]},
    )
    assert renamed.status_code == 200
    # With a grant the organisation approved, an operator reads accounts like anyone.
    request = ask(client, org_a, operator)
    decide(client, org_a, auth(org_a, ADMIN), request["id"], "approve")
    assert client.get(org_url(org_a, "/accounts"), headers=operator).status_code == 200
    log = client.get(org_url(org_a, "/access-log"), headers=auth(org_a, READER)).get_json()
    assert len(log["items"]) == 7
