"""Answering a request: complete with a summary, reject with reasons (naming the supervisory
authority), or withdraw; each final, each told to the organisation's systems and read back by
the subject."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import RequestAction
from tests.api.organisations.helpers import audit_trail
from tests.api.subject_requests.helpers import (
    ADMIN,
    OFFICER,
    OWN,
    Auth,
    act,
    employee,
    file_own,
    problem,
    queue_url,
)
from tests.conftest import Org
from tests.factories.webhooks import deliveries, make_endpoint

EVENTS = ["dsr.completed", "dsr.rejected", "dsr.cancelled"]


def _actions(runtime: Runtime, org: Org) -> list[str]:
    return [e["action"] for e in audit_trail(runtime, org.id)]


def _state(client: FlaskClient, org: Org, headers: dict[str, str], request_id: str) -> Any:
    body = client.get(queue_url(org, f"/{request_id}"), headers=headers).get_json()
    return body["status"], len(body["timeline"]), body["decided_at"]


def test_a_rejection_without_reasons_is_refused_and_changes_nothing(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=EVENTS)
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    officer = auth(org_a, OFFICER)
    before = _state(client, org_a, officer, filed["id"])
    for body in ({}, {"reasons": []}, {"reasons": [""]}, {"reasons": ["  "]}, {"reasons": None}):
        refusal = problem(act(client, org_a, officer, filed["id"], "reject", body), 422)
        assert "reasons" in str(refusal["errors"]), body
    assert _state(client, org_a, officer, filed["id"]) == before
    assert RequestAction.Reject not in _actions(runtime, org_a)
    assert deliveries(runtime, org_a.id) == []


def test_a_rejection_gives_its_reasons_and_names_the_supervisory_authority(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=EVENTS)
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me, kind="erasure", description="Delete me")
    reasons = ["The records are kept by law (art. 17(3)(b))."]
    # Another organisation's officer cannot decide it.
    foreign = act(client, org_b, auth(org_b, OFFICER), filed["id"], "reject", {"reasons": reasons})
    assert foreign.status_code == 404

    response = act(client, org_a, auth(org_a, OFFICER), filed["id"], "reject", {"reasons": reasons})

    assert response.status_code == 200, response.get_json()
    rejected = response.get_json()
    assert (rejected["status"], rejected["rejection_reasons"]) == ("rejected", reasons)
    assert rejected["supervisory_authority"]["name"] == "Autoriteit Persoonsgegevens"
    assert "art. 77" in rejected["supervisory_authority"]["right"]
    assert rejected["decided_at"] is not None
    own = client.get(f"{OWN}/{filed['id']}", headers=me).get_json()
    assert own["status"] == "rejected"
    assert own["rejection_reasons"] == reasons
    assert own["supervisory_authority"] == rejected["supervisory_authority"]
    assert [d.event_type for d in deliveries(runtime, org_a.id)] == ["dsr.rejected"]
    (event,) = [e for e in audit_trail(runtime, org_a.id) if e["action"] == RequestAction.Reject]
    # The reasons may name the subject: the chain counts them, the request holds them.
    assert event["details"]["reasons"] == 1
    assert reasons[0] not in str(event["details"])


def test_a_completion_needs_a_summary_the_subject_then_reads(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=EVENTS)
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me, kind="question", description="Who reads my mail?")
    admin = auth(org_a, ADMIN)
    for body in ({}, {"summary": ""}, {"summary": " \t "}, {"summary": "x" * 2001}):
        problem(act(client, org_a, admin, filed["id"], "complete", body), 422)
    assert RequestAction.Complete not in _actions(runtime, org_a)

    summary = "Only the two administrators of your school; nobody at Facito."
    response = act(client, org_a, admin, filed["id"], "complete", {"summary": summary})

    assert response.status_code == 200, response.get_json()
    done = response.get_json()
    assert (done["status"], done["decision_summary"]) == ("completed", summary)
    assert done["supervisory_authority"] is None
    own = client.get(f"{OWN}/{filed['id']}", headers=me).get_json()
    assert (own["status"], own["decision_summary"]) == ("completed", summary)
    assert own["timeline"][-1]["event"] == "completed"
    assert [d.event_type for d in deliveries(runtime, org_a.id)] == ["dsr.completed"]


def test_the_subject_withdraws_their_request_and_it_can_no_longer_be_answered(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=EVENTS)
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    response = client.post(f"{OWN}/{filed['id']}/cancel", json={"reason": "Solved"}, headers=me)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["timeline"][-1]["details"] == {"reason": "Solved"}
    assert [d.event_type for d in deliveries(runtime, org_a.id)] == ["dsr.cancelled"]

    officer = auth(org_a, OFFICER)
    for action, body in (
        ("complete", {"summary": "Sent"}),
        ("reject", {"reasons": ["No"]}),
        ("extend", {"days": 3, "reason": "More time"}),
        ("assign", {}),
        ("await-subject", {"message": "Which?"}),
        ("verify", {"method": "call-back"}),
        ("cancel", {}),
    ):
        refusal = problem(act(client, org_a, officer, filed["id"], action, body), 409)
        assert refusal["code"] == "dsr-status-conflict", action
    again = client.post(f"{OWN}/{filed['id']}/cancel", json={}, headers=me)
    assert problem(again, 409)["request_status"] == "cancelled"
    # A new request of the same kind is a new one: the cancelled one is not joined.
    assert file_own(client, me)["id"] != filed["id"]


def test_a_decision_while_awaiting_the_subject_ends_the_pause(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    first = file_own(client, me)
    second = file_own(client, me, kind="erasure")
    officer = auth(org_a, OFFICER)
    for filed in (first, second):
        act(client, org_a, officer, filed["id"], "await-subject", {"message": "Your ID?"})
    rejected = act(client, org_a, officer, first["id"], "reject", {"reasons": ["No ID came"]})
    assert (rejected.get_json()["status"], rejected.get_json()["awaiting_subject_since"]) == (
        "rejected",
        None,
    )
    withdrawn = client.post(f"{OWN}/{second['id']}/cancel", json={}, headers=me)
    assert (withdrawn.get_json()["status"], withdrawn.get_json()["awaiting_subject_since"]) == (
        "cancelled",
        None,
    )
    # A request awaiting the subject is not completed before they answer.
    third = file_own(client, me, kind="restriction")
    act(client, org_a, officer, third["id"], "await-subject", {"message": "Which data?"})
    blocked = act(client, org_a, officer, third["id"], "complete", {"summary": "Done"})
    assert problem(blocked, 409)["request_status"] == "awaiting_subject"


def test_a_question_is_answered_not_fulfilled(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me, kind="question", description="Do you sell my data?")
    refusal = problem(act(client, org_a, auth(org_a, OFFICER), filed["id"], "fulfil"), 409)
    assert refusal["code"] == "dsr-status-conflict"
    assert RequestAction.Fulfil not in _actions(runtime, org_a)
