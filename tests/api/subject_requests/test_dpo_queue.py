"""Facito's DPO queue: support records a personal subject's request, the DPO verifies and
answers it on Facito's own chain; the Facito-controlled part of an employee's request lands
there linked to the organisation's part; organisations never see the queue, nor the DPO
theirs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from facito_admin.audit.models import FacitoAuditEvent
from facito_admin.db.base import utcnow
from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import FacitoRequestAction as Action
from facito_admin.subject_requests.actions import RequestAction
from tests.api.organisations.helpers import audit_trail
from tests.api.policies.helpers import facito_actions
from tests.api.subject_requests.helpers import (
    ADMIN,
    DPO,
    INTEGRATION,
    OFFICER,
    OWN,
    READER,
    SUPPORT,
    Auth,
    dpo_url,
    employee,
    file_own,
    queue_url,
    record_personal,
)
from tests.conftest import Org
from tests.factories.user_data import insert_records


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _events(request: dict[str, object]) -> list[str]:
    return [entry["event"] for entry in request["timeline"]]  # type: ignore[attr-defined,index]


def _queue(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[str]:
    response = client.get(dpo_url(query), headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_support_records_a_phone_request_that_waits_until_the_dpo_verifies_the_subject(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    support, dpo = auth(None, SUPPORT), auth(None, DPO)
    response = record_personal(client, support, channel="phone")
    assert response.status_code == 201, response.get_json()
    request = response.get_json()
    assert response.headers["Location"].endswith(dpo_url(f"/{request['id']}"))
    assert (request["queue"], request["status"], request["requester_kind"]) == (
        "facito_dpo",
        "verification_pending",
        "facito_support",
    )
    assert request["subject"] == {"display_name": "Jan de Vries", "email": "jan@example.nl"}
    assert (request["subject_organisation_id"], request["account_id"]) == (None, None)
    assert request["routing"]["rule"] == "personal-account"
    # The statement in force (a personal account has no contract): 30 days.
    assert _at(request["due_at"]) - _at(request["received_at"]) == timedelta(days=30)
    assert _events(request) == ["received", "verification_pending"]

    # Support records requests; reading and handling them is the DPO's.
    verify = dpo_url(f"/{request['id']}/verify")
    assert client.post(verify, json={"method": "call-back"}, headers=support).status_code == 403
    assert client.get(dpo_url(), headers=support).status_code == 403
    verified = client.post(verify, json={"method": "call-back"}, headers=dpo)
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["status"] == "routed"
    assert verified.get_json()["verified_at"] is not None

    assert facito_actions(runtime) == [Action.File, Action.Verify]
    # Nothing of it on an organisation's chain.
    assert not [e for e in audit_trail(runtime, org_a.id) if "data-subject" in e["action"]]


def test_the_same_kind_for_the_same_email_is_joined_and_another_kind_is_new(
    client: FlaskClient, runtime: Runtime, auth: Auth
):
    dpo = auth(None, DPO)
    first = record_personal(client, dpo, channel="email").get_json()
    again = record_personal(client, dpo, channel="post", email="Jan@Example.NL")
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert again.get_json()["timeline"][-1]["event"] == "filed_again"
    other = record_personal(client, dpo, "erasure", channel="email")
    assert other.status_code == 201
    assert sorted(_queue(client, dpo)) == sorted([first["id"], other.get_json()["id"]])
    assert facito_actions(runtime) == [Action.File, Action.Link, Action.File]


def test_a_request_made_in_person_is_routed_at_once_and_recorded_as_the_dpos(
    client: FlaskClient, auth: Auth
):
    request = record_personal(client, auth(None, DPO), channel="in_person").get_json()
    assert (request["status"], request["requester_kind"]) == ("routed", "facito_dpo")
    assert _events(request) == ["received", "routed"]


def test_the_subject_and_the_channel_are_checked(client: FlaskClient, auth: Auth):
    dpo = auth(None, DPO)
    for subject in (
        {"display_name": "Jan", "email": "not an address"},
        {"display_name": "Jan", "email": '"\x01"@example.nl'},
        {"display_name": "   ", "email": "jan@example.nl"},
        {"email": "jan@example.nl"},
    ):
        response = record_personal(client, dpo, subject=subject)
        assert response.status_code == 422, subject
        assert "subject" in str(response.get_json()["errors"])
    # A personal subject has no organisation token to file through the API with.
    response = record_personal(client, dpo, channel="api")
    assert response.status_code == 422
    assert "channel" in str(response.get_json()["errors"])
    assert _queue(client, dpo) == []


def test_an_extension_is_allowed_before_the_original_due_time_and_refused_after_it(
    client: FlaskClient, runtime: Runtime, auth: Auth
):
    dpo = auth(None, DPO)
    request = record_personal(client, dpo, channel="in_person").get_json()
    extend = dpo_url(f"/{request['id']}/extend")
    body = {"days": 10, "reason": "the archive is offsite"}
    extended = client.post(extend, json=body, headers=dpo)
    assert extended.status_code == 200, extended.get_json()
    assert _at(extended.get_json()["due_at"]) - _at(request["due_at"]) == timedelta(days=10)
    assert extended.get_json()["extension_notified_at"] is not None

    with time_machine.travel(_at(request["due_at"]) + timedelta(seconds=1), tick=False):
        late = client.post(extend, json=body, headers=auth(None, DPO))
    assert late.status_code == 409
    assert (late.get_json()["code"], late.get_json()["rule"]) == (
        "dsr-extension-refused",
        "extension-too-late",
    )
    assert facito_actions(runtime) == [Action.File, Action.Extend]


def test_a_rejection_needs_reasons_and_names_the_autoriteit_persoonsgegevens(
    client: FlaskClient, runtime: Runtime, auth: Auth
):
    dpo = auth(None, DPO)
    request = record_personal(client, dpo, channel="in_person").get_json()
    reject = dpo_url(f"/{request['id']}/reject")
    for reasons in ([], ["   "]):
        refused = client.post(reject, json={"reasons": reasons}, headers=dpo)
        assert refused.status_code == 422, reasons
        assert "reasons" in str(refused.get_json()["errors"])
    assert client.get(dpo_url(f"/{request['id']}"), headers=dpo).get_json()["status"] == "routed"

    rejected = client.post(reject, json={"reasons": ["We hold no data about you."]}, headers=dpo)
    assert rejected.status_code == 200, rejected.get_json()
    answer = rejected.get_json()
    assert (answer["status"], answer["rejection_reasons"]) == (
        "rejected",
        ["We hold no data about you."],
    )
    assert answer["supervisory_authority"]["name"] == "Autoriteit Persoonsgegevens"
    assert answer["timeline"][-1]["details"]["supervisory_authority"] == (
        "Autoriteit Persoonsgegevens"
    )
    assert facito_actions(runtime) == [Action.File, Action.Reject]


def test_the_dpo_assigns_pauses_resumes_and_completes_with_the_queue_filters_following(
    client: FlaskClient, auth: Auth
):
    dpo, colleague = auth(None, DPO), auth(None, DPO)
    request = record_personal(client, dpo, channel="in_person").get_json()
    other = record_personal(client, dpo, "erasure", channel="email").get_json()
    url = dpo_url(f"/{request['id']}")

    assert client.post(f"{url}/assign", json={}, headers=dpo).get_json()["assignee"]
    assert _queue(client, dpo, "?assigned_to_me=true") == [request["id"]]
    assert _queue(client, colleague, "?assigned_to_me=true") == []
    assert _queue(client, dpo, "?status=verification_pending") == [other["id"]]

    paused = client.post(f"{url}/await-subject", json={"message": "your ID, please"}, headers=dpo)
    assert paused.get_json()["status"] == "awaiting_subject"
    # Past both due times, only the running request is overdue: a paused clock stands still.
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        later = auth(None, DPO)  # a token of that day
        assert _queue(client, later, "?overdue=true") == [other["id"]]
        resumed = client.post(f"{url}/resume", json={}, headers=later).get_json()
    assert resumed["status"] == "in_progress"
    assert _at(resumed["due_at"]) - _at(request["due_at"]) >= timedelta(days=31)
    assert _queue(client, dpo, "?overdue=true") == []

    due_before = (_at(request["due_at"]) + timedelta(days=1)).isoformat()
    assert _queue(client, dpo, f"?due_before={due_before.replace('+', '%2B')}") == [other["id"]]
    done = client.post(f"{url}/complete", json={"summary": "Sent by post."}, headers=dpo)
    assert done.get_json()["status"] == "completed"
    assert _queue(client, dpo, "?open=true") == [other["id"]]
    assert _events(done.get_json())[-4:] == ["assigned", "awaiting_subject", "resumed", "completed"]


def test_the_dpo_assignment_names_the_assignee_by_id_on_facitos_chain_never_by_name(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    dpo = auth(None, DPO)
    request = record_personal(client, dpo).get_json()
    colleague = "0b1c2d3e-0000-4000-8000-0000000000aa"
    body = {"assignee_object_id": colleague, "assignee_name": "Petra Jansen"}
    assigned = client.post(dpo_url(f"/{request['id']}/assign"), json=body, headers=dpo)
    assert assigned.get_json()["assignee"] == "Petra Jansen"
    with runtime.session() as session:
        [details] = session.scalars(
            select(FacitoAuditEvent.details).where(FacitoAuditEvent.action == Action.Assign)
        )
    # The chain is append-only: a name there could never be erased (GDPR art. 17).
    assert details["assignee_id"].endswith(f":{colleague}")
    assert "Petra Jansen" not in json.dumps(details)
    assert Action.Assign not in [e["action"] for e in audit_trail(runtime, org_a.id)]


def test_organisations_never_see_the_dpo_queue_and_the_dpo_never_sees_theirs(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    dpo = auth(None, DPO)
    personal = record_personal(client, dpo, channel="in_person").get_json()
    _, me = employee(runtime, org_a, auth)
    own = file_own(client, me)
    assert own["linked_request_id"] is None  # no Facito-controlled data: not split
    callers = {
        "admin": auth(org_a, ADMIN),
        "reader": auth(org_a, READER),
        "privacy officer": auth(org_a, OFFICER),
        "integration": auth(org_a, INTEGRATION, app=True),
        "employee": me,
        "admin of B": auth(org_b, ADMIN),
    }
    for who, headers in callers.items():
        for method, path in (
            ("GET", dpo_url()),
            ("GET", dpo_url(f"/{personal['id']}")),
            ("POST", dpo_url(f"/{personal['id']}/cancel")),
        ):
            response = client.open(path, method=method, json={}, headers=headers)
            assert response.status_code == 403, f"{who}: {method} {path}"
        filed = record_personal(client, headers, channel="email")
        assert filed.status_code == 403, who

    # The DPO reaches organisation A (its role reads organisations) but not A's queue: without
    # a support grant, it does not exist for Facito staff.
    for path in (queue_url(org_a), queue_url(org_a, f"/{own['id']}")):
        assert client.get(path, headers=dpo).status_code == 404, path
    # The DPO queue holds the personal request only, and no id of an organisation's row.
    assert _queue(client, dpo) == [personal["id"]]
    assert client.get(dpo_url(f"/{own['id']}"), headers=dpo).status_code == 404


def test_an_employees_request_over_facito_controlled_data_lands_as_a_linked_pair(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    account, me = employee(runtime, org_a, auth)
    insert_records(runtime, org_a.id, account, category="sales.contact")
    mine = file_own(client, me)
    assert mine["routing"]["parts"] == ["organisation", "facito_dpo"]
    assert mine["linked_request_id"] is not None
    assert "split" in _events(mine)

    admin, dpo = auth(org_a, ADMIN), auth(None, DPO)
    assert [r["id"] for r in client.get(queue_url(org_a), headers=admin).get_json()["items"]] == [
        mine["id"]
    ]
    assert client.get(queue_url(org_b), headers=auth(org_b, ADMIN)).get_json()["items"] == []
    assert _queue(client, dpo) == [mine["linked_request_id"]]
    part = client.get(dpo_url(f"/{mine['linked_request_id']}"), headers=dpo).get_json()
    assert (part["linked_request_id"], part["subject_organisation_id"], part["account_id"]) == (
        mine["id"],
        str(org_a.id),
        str(account),
    )
    assert (part["status"], part["kind"], part["due_at"]) == ("routed", "access", mine["due_at"])
    assert part["routing"]["rule"] == "facito-controlled-data"
    assert "sales.contact" in part["routing"]["categories"]
    assert "organisation_id" not in part
    # The part's filing is on Facito's chain; the organisation's on its own.
    assert facito_actions(runtime) == [Action.File]
    organisation_actions = [e["action"] for e in audit_trail(runtime, org_a.id)]
    assert organisation_actions.count(RequestAction.File) == 1


def test_a_subject_who_withdraws_a_split_request_withdraws_the_dpo_part_too(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, me = employee(runtime, org_a, auth)
    insert_records(runtime, org_a.id, account, category="sales.contact")
    mine = file_own(client, me)
    cancelled = client.post(f"{OWN}/{mine['id']}/cancel", json={"reason": "sorted"}, headers=me)
    assert cancelled.status_code == 200, cancelled.get_json()
    assert (
        cancelled.get_json()["timeline"][-1]["details"]["linked_request_id"]
        == (mine["linked_request_id"])
    )
    part = client.get(dpo_url(f"/{mine['linked_request_id']}"), headers=auth(None, DPO))
    assert part.get_json()["status"] == "cancelled"
    assert part.get_json()["timeline"][-1]["details"]["linked_request_id"] == mine["id"]
    assert facito_actions(runtime) == [Action.File, Action.Cancel]


def test_the_dpo_cancels_its_part_only(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, me = employee(runtime, org_a, auth)
    insert_records(runtime, org_a.id, account, category="sales.contact")
    mine = file_own(client, me)
    dpo = auth(None, DPO)
    cancelled = client.post(dpo_url(f"/{mine['linked_request_id']}/cancel"), json={}, headers=dpo)
    assert cancelled.get_json()["status"] == "cancelled"
    assert client.get(f"{OWN}/{mine['id']}", headers=me).get_json()["status"] == "routed"
    # Withdrawn later by the subject, the part already answered stays as it was.
    client.post(f"{OWN}/{mine['id']}/cancel", json={}, headers=me)
    assert facito_actions(runtime) == [Action.File, Action.Cancel]


def test_an_unknown_or_answered_request_of_the_dpo_queue(
    client: FlaskClient, runtime: Runtime, auth: Auth
):
    dpo = auth(None, DPO)
    assert (
        client.get(dpo_url(f"/{'0' * 8}-0000-4000-8000-{'0' * 12}"), headers=dpo).status_code == 404
    )
    request = record_personal(client, dpo, channel="in_person").get_json()
    url = dpo_url(f"/{request['id']}")
    client.post(f"{url}/complete", json={"summary": "Done."}, headers=dpo)
    again = client.post(f"{url}/cancel", json={}, headers=dpo)
    assert again.status_code == 409
    assert again.get_json()["code"] == "dsr-status-conflict"
    assert facito_actions(runtime) == [Action.File, Action.Complete]
