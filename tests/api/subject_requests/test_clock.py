"""The clock of a queued request through the API: extensions (only before the original due
time, with a reason, within the maximum), and the pause while the organisation awaits the
subject, which the subject's answer ends with the due time moved on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import RequestAction
from tests.api.organisations.helpers import audit_trail
from tests.api.subject_requests.helpers import (
    OFFICER,
    OWN,
    Auth,
    act,
    employee,
    file_own,
    person,
    problem,
    queue_url,
)
from tests.conftest import Org
from tests.factories.webhooks import deliveries, make_endpoint


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _read(client: FlaskClient, org: Org, headers: dict[str, str], request_id: str) -> Any:
    response = client.get(queue_url(org, f"/{request_id}"), headers=headers)
    assert response.status_code == 200
    return response.get_json()


def _extensions(runtime: Runtime, org: Org) -> int:
    return [e["action"] for e in audit_trail(runtime, org.id)].count(RequestAction.Extend)


def test_an_extension_before_the_original_due_time_moves_the_due_time_and_tells_the_subject(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=["dsr.extended"])
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    officer = auth(org_a, OFFICER)

    response = act(
        client, org_a, officer, filed["id"], "extend", {"days": 20, "reason": "Five systems"}
    )

    assert response.status_code == 200, response.get_json()
    extended = response.get_json()
    assert _at(extended["due_at"]) == _at(filed["due_at"]) + timedelta(days=20)
    assert extended["original_due_at"] == filed["original_due_at"]
    assert (extended["extension_days"], extended["max_extension_days"]) == (20, 60)
    assert extended["extension_notified_at"] is not None
    assert extended["timeline"][-1]["event"] == "extended"
    assert extended["timeline"][-1]["details"]["subject_notified"] is True
    # The subject reads the new due time and why.
    own = client.get(f"{OWN}/{filed['id']}", headers=me).get_json()
    assert (own["due_at"], own["extension_reason"]) == (extended["due_at"], "Five systems")
    (delivery,) = deliveries(runtime, org_a.id)
    assert delivery.event_type == "dsr.extended"
    assert delivery.payload["data"]["extension_days"] == 20
    (event,) = [e for e in audit_trail(runtime, org_a.id) if e["action"] == RequestAction.Extend]
    assert "reason" not in event["details"]
    # B cannot extend it: to B it does not exist.
    other = act(
        client, org_b, auth(org_b, OFFICER), filed["id"], "extend", {"days": 1, "reason": "x"}
    )
    assert other.status_code == 404


def test_an_extension_after_the_original_due_time_is_refused_and_changes_nothing(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    with time_machine.travel(_at(filed["due_at"]) + timedelta(seconds=1), tick=False):
        officer = auth(org_a, OFFICER)
        response = act(
            client, org_a, officer, filed["id"], "extend", {"days": 10, "reason": "Too late"}
        )
        refusal = problem(response, 409)
        assert (refusal["code"], refusal["rule"]) == ("dsr-extension-refused", "extension-too-late")
        after = _read(client, org_a, officer, filed["id"])
    assert (after["due_at"], after["extension_days"]) == (filed["due_at"], 0)
    assert after["timeline"] == filed["timeline"]
    assert _extensions(runtime, org_a) == 0


def test_an_extension_within_the_first_one_but_after_the_original_due_time_is_refused(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    officer = auth(org_a, OFFICER)
    first = act(client, org_a, officer, filed["id"], "extend", {"days": 20, "reason": "Many"})
    assert first.status_code == 200
    with time_machine.travel(_at(filed["original_due_at"]) + timedelta(days=1), tick=False):
        again = act(
            client, org_a, auth(org_a, OFFICER), filed["id"], "extend", {"days": 5, "reason": "x"}
        )
        assert problem(again, 409)["rule"] == "extension-too-late"
    assert _extensions(runtime, org_a) == 1


def test_an_extension_without_a_reason_or_beyond_the_maximum_is_refused(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    officer = auth(org_a, OFFICER)
    for body in ({"days": 10}, {"days": 10, "reason": ""}, {"days": 10, "reason": "   "}):
        refusal = problem(act(client, org_a, officer, filed["id"], "extend", body), 422)
        assert "reason" in str(refusal["errors"]), body
    for body in ({"days": 0, "reason": "x"}, {"days": 366, "reason": "x"}, {"reason": "x"}):
        problem(act(client, org_a, officer, filed["id"], "extend", body), 422)
    # Beyond the statement's 60 days in all: refused by the rule, naming it.
    too_long = act(client, org_a, officer, filed["id"], "extend", {"days": 61, "reason": "x"})
    assert problem(too_long, 409)["rule"] == "extension-too-long"
    sixty = act(client, org_a, officer, filed["id"], "extend", {"days": 60, "reason": "x"})
    assert sixty.status_code == 200
    more = act(client, org_a, officer, filed["id"], "extend", {"days": 1, "reason": "x"})
    assert problem(more, 409)["rule"] == "extension-too-long"
    assert _extensions(runtime, org_a) == 1


def test_awaiting_the_subject_stops_the_clock_and_their_answer_moves_the_due_time_on(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    _, oid = person(runtime, org_a)
    _, stranger = person(runtime, org_b, 2)
    filed = file_own(client, auth(org_a, oid=oid))
    asked = act(
        client, org_a, auth(org_a, OFFICER), filed["id"], "await-subject", {"message": "When?"}
    )
    assert asked.status_code == 200, asked.get_json()
    paused = asked.get_json()
    assert paused["status"] == "awaiting_subject"
    since = _at(paused["awaiting_subject_since"])

    # The subject answers 33 days later: long after the request would have been due.
    later = since + timedelta(days=33)
    with time_machine.travel(later, tick=False):
        overdue = client.get(
            queue_url(org_a), query_string={"overdue": "true"}, headers=auth(org_a, OFFICER)
        )
        assert overdue.get_json()["items"] == [], "a paused clock is never overdue"
        # Nobody else answers for them: to a stranger the request does not exist.
        foreign = client.post(
            f"{OWN}/{filed['id']}/answer",
            json={"message": "2024"},
            headers=auth(org_b, oid=stranger),
        )
        assert foreign.status_code == 404
        answered = client.post(
            f"{OWN}/{filed['id']}/answer", json={"message": "2024"}, headers=auth(org_a, oid=oid)
        )
    assert answered.status_code == 200, answered.get_json()
    resumed = answered.get_json()
    assert (resumed["status"], resumed["awaiting_subject_since"]) == ("in_progress", None)
    moved = later - since
    assert _at(resumed["due_at"]) == _at(filed["due_at"]) + moved
    assert _at(resumed["original_due_at"]) == _at(filed["original_due_at"]) + moved
    assert [e["event"] for e in resumed["timeline"]][-2:] == ["awaiting_subject", "resumed"]
    assert _at(resumed["timeline"][-1]["details"]["due_at"]) == _at(resumed["due_at"])
    actions = [e["action"] for e in audit_trail(runtime, org_a.id)]
    assert actions.count(RequestAction.AwaitSubject) == actions.count(RequestAction.Resume) == 1


def test_the_handler_resumes_a_request_the_subject_did_not_answer_and_the_clock_runs_again(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    officer = auth(org_a, OFFICER)
    act(client, org_a, officer, filed["id"], "await-subject", {"message": "Your ID, please"})
    resumed = act(client, org_a, officer, filed["id"], "resume")
    assert resumed.status_code == 200, resumed.get_json()
    assert resumed.get_json()["status"] == "in_progress"
    assert _at(resumed.get_json()["due_at"]) >= _at(filed["due_at"])


def test_the_subject_cannot_answer_nor_the_handler_resume_a_request_that_awaits_nobody(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    answer = client.post(f"{OWN}/{filed['id']}/answer", json={"message": "hello"}, headers=me)
    refusal = problem(answer, 409)
    assert (refusal["code"], refusal["request_status"]) == ("dsr-status-conflict", "routed")
    problem(act(client, org_a, auth(org_a, OFFICER), filed["id"], "resume"), 409)
