"""Rectification (art. 16) through the API: the approved changes reach the account as a job;
before and after are kept on the request, the audit names fields only, and `dsr.rectified`
tells the organisation's systems which fields changed. Another organisation sees nothing."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from facito_admin.accounts.actions import AccountAction
from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import RequestAction
from tests.api.organisations.helpers import audit_trail
from tests.api.subject_requests.helpers import (
    ADMIN,
    OWN,
    Auth,
    employee,
    file_own,
    fulfil,
    queue_url,
    read_request,
)
from tests.conftest import Org
from tests.factories.accounts import read_account
from tests.factories.webhooks import deliveries, make_endpoint

CHANGES = {"job_title": "Head of Finance", "birth_date": "1990-02-03"}


def test_an_employees_rectification_changes_their_account_with_before_and_after_on_the_request(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=["dsr.rectified"])
    make_endpoint(runtime, org_b.id, "https://hooks.example/b", event_types=["dsr.rectified"])
    subject, me = employee(runtime, org_a, auth)
    foreigner, _ = employee(runtime, org_b, auth)
    request = file_own(client, me, "rectification", scope={"changes": CHANGES})
    assert request["scope"]["changes"] == CHANGES
    admin = auth(org_a, ADMIN)
    assert (
        client.post(
            queue_url(org_b, f"/{request['id']}/fulfil"), headers=auth(org_b, ADMIN)
        ).status_code
        == 404
    )

    job = fulfil(client, runtime, org_a, admin, request["id"])
    assert job["state"] == "succeeded", job
    assert job["result"]["changed"] == ["birth_date", "job_title"]
    assert "Head of Finance" not in json.dumps(job["result"])

    account = client.get(f"/v1/organisations/{org_a.id}/accounts/{subject}", headers=admin)
    assert (account.get_json()["job_title"], account.get_json()["birth_date"]) == (
        "Head of Finance",
        "1990-02-03",
    )
    answered = read_request(client, org_a, admin, request["id"])
    result = answered["results"]["rectification"]
    assert result["before"] == {"job_title": None, "birth_date": None}
    assert result["after"] == CHANGES
    # The subject reads what changed, from what to what, on their own request.
    own = client.get(f"{OWN}/{request['id']}", headers=me).get_json()
    assert own["timeline"][-1]["event"] == "rectified"
    assert own["timeline"][-1]["details"]["after"] == CHANGES

    # The audit chain cannot forget: it names the fields, never their values.
    events = audit_trail(runtime, org_a.id)
    rectified = [e for e in events if e["action"] == RequestAction.Rectify]
    updated = [
        e
        for e in events
        if e["action"] == AccountAction.AccountUpdate and e["target_id"] == str(subject)
    ]
    assert [e["details"]["changed"] for e in rectified] == [["birth_date", "job_title"]]
    assert [e["details"]["fields"] for e in updated] == [["birth_date", "job_title"]]
    assert "Head of Finance" not in json.dumps([e["details"] for e in events])

    [delivery] = deliveries(runtime, org_a.id)
    assert delivery.event_type == "dsr.rectified"
    assert delivery.payload["data"]["fields"] == ["birth_date", "job_title"]
    assert "Head of Finance" not in json.dumps(delivery.payload)
    assert deliveries(runtime, org_b.id) == []
    assert read_account(runtime, org_b.id, foreigner).job_title is None


def test_a_rectification_that_would_take_a_colleagues_address_fails_and_changes_nothing(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    subject, me = employee(runtime, org_a, auth)
    employee(runtime, org_a, auth, 2)
    # The colleague's address (tests.factories.accounts: user<n>@example.com).
    request = file_own(
        client, me, "rectification", scope={"changes": {"email": "user2@example.com"}}
    )
    admin = auth(org_a, ADMIN)
    job = fulfil(client, runtime, org_a, admin, request["id"])
    assert job["state"] == "failed", job
    assert job["attempts"] == 1
    assert read_account(runtime, org_a.id, subject).email == "user1@example.com"
    answered = read_request(client, org_a, admin, request["id"])
    assert "rectification" not in answered["results"]
    assert answered["status"] == "in_progress"
