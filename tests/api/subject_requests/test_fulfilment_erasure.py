"""Erasure (art. 17) through the API: filed by the employee, fulfilled by an administrator as a
job; the subject's records and account go the retention path, what legal holds and statutory
retention keep stays and is listed with its ground in the deletion certificate, and the
organisation's systems hear `dsr.erased`. Another organisation sees and loses nothing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient

from facito_admin.accounts.models import AccountStatus
from facito_admin.db.base import utcnow
from facito_admin.jobs.models import JobState
from facito_admin.retention.account_purge import PURGE_KIND
from facito_admin.retention.runs import RUN_KIND
from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import RequestAction
from tests.api.organisations.helpers import audit_trail
from tests.api.subject_requests.helpers import (
    ADMIN,
    OWN,
    Auth,
    employee,
    file_for,
    file_own,
    fulfil,
    queue_url,
    read_request,
)
from tests.conftest import Org
from tests.factories.accounts import read_account
from tests.factories.retention import add_record, record_ids, run_now
from tests.factories.webhooks import deliveries, make_endpoint

ERRORS = "usage.error_reports"
FILES = "content.files"
CONTACT = "identity.contact"
PAYMENT = "commerce.payment"
# retention.deleted_items_days of the default statement: the grace period.
GRACE = timedelta(days=30)


def _org_url(org: Org, suffix: str) -> str:
    return f"/v1/organisations/{org.id}{suffix}"


def _certificate(client: FlaskClient, org: Org, headers: dict[str, str], result: dict) -> Any:
    path = _org_url(org, f"/deletion-certificates/{result['deletion_certificate_id']}")
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _after_the_grace_period(runtime: Runtime, org: Org, at: datetime) -> None:
    """The retention run and the account purge, as their periodic scans would start them."""
    with time_machine.travel(at, tick=False):
        assert run_now(runtime, org.id, RUN_KIND).state is JobState.succeeded
        assert run_now(runtime, org.id, PURGE_KIND).state is JobState.succeeded


def test_an_erasure_leaves_held_records_in_place_lists_them_and_the_rest_goes_after_the_grace_period(  # noqa: E501
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=["dsr.erased"])
    make_endpoint(runtime, org_b.id, "https://hooks.example/b", event_types=["dsr.erased"])
    subject, me = employee(runtime, org_a, auth)
    colleague, _ = employee(runtime, org_a, auth, 2)
    foreigner, _ = employee(runtime, org_b, auth)
    recent = utcnow() - timedelta(days=1)
    held = {add_record(runtime, org_a.id, subject, category=FILES, occurred_at=recent)}
    held.add(add_record(runtime, org_a.id, subject, category=FILES, occurred_at=recent))
    add_record(runtime, org_a.id, subject, category=ERRORS, occurred_at=recent)
    add_record(runtime, org_a.id, subject, category=CONTACT, occurred_at=recent)
    colleagues = add_record(runtime, org_a.id, colleague, category=ERRORS, occurred_at=recent)
    foreign = add_record(runtime, org_b.id, foreigner, category=ERRORS, occurred_at=recent)
    admin = auth(org_a, ADMIN)
    hold = client.post(
        _org_url(org_a, "/legal-holds"),
        json={
            "reason": "Litigation",
            "reference": "CASE-7",
            "account_id": str(subject),
            "category": FILES,
        },
        headers=admin,
    ).get_json()

    request = file_own(client, me, "erasure", description="Erase everything about me")
    job = fulfil(client, runtime, org_a, admin, request["id"])
    assert job["state"] == "succeeded", job

    answered = read_request(client, org_a, admin, request["id"])
    result = answered["results"]["erasure"]
    assert result["job_id"] == job["id"]
    assert answered["timeline"][-1]["event"] == "erased"
    certificate = _certificate(client, org_a, admin, result)
    assert certificate["kind"] == "erasure"
    assert certificate["removed"] == {"data_records": {ERRORS: 1, CONTACT: 1}, "accounts": 1}
    assert certificate["removed_total"] == 3
    kept = certificate["kept_by_holds"]
    assert (kept["total"], kept["categories"], kept["holds"]) == (2, {FILES: 2}, {hold["id"]: 2})
    [ground] = kept["grounds"]
    assert (ground["ground"], ground["legal_hold_id"], ground["reference"]) == (
        "legal_hold",
        hold["id"],
        "CASE-7",
    )
    assert (ground["category"], ground["records"]) == (FILES, 2)
    assert "17(3)" in ground["legal_basis"]
    # The hold names the account: the account purge keeps it while the hold lasts.
    assert kept["account"]["kept_from_purge_by_holds"] == [hold["id"]]
    assert certificate["basis"]["request_reference"] == request["reference"]

    account = read_account(runtime, org_a.id, subject)
    assert account is not None and account.status is AccountStatus.deleted
    listed = client.get(_org_url(org_a, f"/accounts/{subject}/data"), headers=admin).get_json()
    assert {uuid.UUID(r["id"]) for r in listed["items"]} == held
    [delivery] = deliveries(runtime, org_a.id)
    assert delivery.event_type == "dsr.erased"
    assert delivery.payload["data"]["deletion_certificate_id"] == certificate["id"]
    assert delivery.payload["data"]["account_id"] == str(subject)
    assert deliveries(runtime, org_b.id) == []
    erased = [e for e in audit_trail(runtime, org_a.id) if e["action"] == RequestAction.Erase]
    assert [e["details"]["removed"] for e in erased] == [{ERRORS: 1, CONTACT: 1}]

    _after_the_grace_period(runtime, org_a, utcnow() + GRACE + timedelta(hours=1))
    assert record_ids(runtime, org_a.id) == held | {colleagues}
    assert read_account(runtime, org_a.id, subject) is not None
    assert record_ids(runtime, org_b.id) == {foreign}
    assert read_account(runtime, org_b.id, foreigner) is not None

    # Once the hold is released, the account purge takes the account and what it kept.
    released = client.post(
        _org_url(org_a, f"/legal-holds/{hold['id']}/release"),
        json={"reason": "Settled"},
        headers=admin,
    )
    assert released.status_code == 200, released.get_json()
    _after_the_grace_period(runtime, org_a, utcnow() + GRACE + timedelta(hours=2))
    assert record_ids(runtime, org_a.id) == {colleagues}
    assert read_account(runtime, org_a.id, subject) is None


def test_statutory_retention_keeps_payment_data_and_its_account_until_that_retention_ends(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    subject, _ = employee(runtime, org_a, auth)
    paid_at = utcnow() - timedelta(days=10)
    payment = add_record(runtime, org_a.id, subject, category=PAYMENT, occurred_at=paid_at)
    add_record(runtime, org_a.id, subject, category=ERRORS, occurred_at=paid_at)
    admin = auth(org_a, ADMIN)
    filed = file_for(client, org_a, admin, subject, "erasure")
    assert filed.status_code == 201, filed.get_json()

    job = fulfil(client, runtime, org_a, admin, filed.get_json()["id"])
    assert job["state"] == "succeeded", job
    result = read_request(client, org_a, admin, filed.get_json()["id"])["results"]["erasure"]
    [ground] = result["kept"]
    assert (ground["ground"], ground["category"], ground["records"]) == (
        "statutory_retention",
        PAYMENT,
        1,
    )
    assert "17(3)(b)" in ground["legal_basis"]
    until = datetime.fromisoformat(ground["until"])
    assert until > utcnow() + timedelta(days=300)
    certificate = _certificate(client, org_a, admin, result)
    assert certificate["removed"]["data_records"] == {ERRORS: 1}
    assert certificate["kept_by_holds"]["categories"] == {PAYMENT: 1}
    assert certificate["kept_by_holds"]["holds"] == {}
    account = read_account(runtime, org_a.id, subject)
    assert account.status is AccountStatus.deleted and account.purge_after == until

    _after_the_grace_period(runtime, org_a, utcnow() + GRACE + timedelta(hours=1))
    assert record_ids(runtime, org_a.id) == {payment}
    assert read_account(runtime, org_a.id, subject) is not None


def test_an_erasure_of_some_categories_removes_only_those_and_the_account_stays(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    subject, me = employee(runtime, org_a, auth)
    recent = utcnow() - timedelta(days=1)
    add_record(runtime, org_a.id, subject, category=ERRORS, occurred_at=recent)
    contact = add_record(runtime, org_a.id, subject, category=CONTACT, occurred_at=recent)
    request = file_own(client, me, "erasure", scope={"categories": [ERRORS]})
    admin = auth(org_a, ADMIN)
    assert fulfil(client, runtime, org_a, admin, request["id"])["state"] == "succeeded"

    result = read_request(client, org_a, admin, request["id"])["results"]["erasure"]
    assert result["removed"]["data_records"] == {ERRORS: 1}
    assert result["removed"]["account"]["deleted"] is False
    assert read_account(runtime, org_a.id, subject).status is AccountStatus.active
    listed = client.get(_org_url(org_a, f"/accounts/{subject}/data"), headers=admin).get_json()
    assert [uuid.UUID(r["id"]) for r in listed["items"]] == [contact]


def test_an_organisation_wide_hold_keeps_everything_of_the_subject(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    subject, me = employee(runtime, org_a, auth)
    record = add_record(runtime, org_a.id, subject, category=ERRORS, occurred_at=utcnow())
    admin = auth(org_a, ADMIN)
    hold = client.post(
        _org_url(org_a, "/legal-holds"), json={"reason": "Investigation"}, headers=admin
    ).get_json()
    request = file_own(client, me, "erasure")
    assert fulfil(client, runtime, org_a, admin, request["id"])["state"] == "succeeded"

    result = read_request(client, org_a, admin, request["id"])["results"]["erasure"]
    assert result["removed"]["data_records"] == {}
    assert [(g["legal_hold_id"], g["records"]) for g in result["kept"]] == [(hold["id"], 1)]
    _after_the_grace_period(runtime, org_a, utcnow() + GRACE + timedelta(hours=1))
    assert record_ids(runtime, org_a.id) == {record}
    assert read_account(runtime, org_a.id, subject) is not None


def test_another_organisation_cannot_fulfil_the_request_and_it_stays_untouched(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    subject, me = employee(runtime, org_a, auth)
    record = add_record(runtime, org_a.id, subject, category=ERRORS, occurred_at=utcnow())
    request = file_own(client, me, "erasure")
    admin_b = auth(org_b, ADMIN)
    for path in (
        queue_url(org_b, f"/{request['id']}/fulfil"),
        queue_url(org_a, f"/{request['id']}/fulfil"),
    ):
        response = client.post(path, headers=admin_b)
        assert response.status_code == 404, (path, response.get_json())
    assert record_ids(runtime, org_a.id) == {record}
    assert read_request(client, org_a, auth(org_a, ADMIN), request["id"])["status"] == "routed"


def test_the_erased_subject_still_follows_their_requests_and_reads_the_outcome_but_files_no_more(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    _, foreigner = employee(runtime, org_b, auth)
    admin = auth(org_a, ADMIN)
    erasure = file_own(client, me, "erasure", description="Erase everything about me")
    question = file_own(client, me, "question", description="Who else has my data?")
    paused = client.post(
        queue_url(org_a, f"/{question['id']}/await-subject"),
        json={"message": "Which products do you mean?"},
        headers=admin,
    )
    assert paused.status_code == 200, paused.get_json()
    assert fulfil(client, runtime, org_a, admin, erasure["id"])["state"] == "succeeded"
    done = client.post(
        queue_url(org_a, f"/{erasure['id']}/complete"),
        json={"summary": "Erased; files under a legal hold are kept."},
        headers=admin,
    )
    assert done.status_code == 200, done.get_json()

    # The account is soft-deleted, not purged: its person's token still finds their requests.
    listed = client.get(OWN, headers=me)
    assert listed.status_code == 200, listed.get_json()
    assert {r["id"] for r in listed.get_json()["items"]} == {erasure["id"], question["id"]}
    outcome = client.get(f"{OWN}/{erasure['id']}", headers=me).get_json()
    assert outcome["status"] == "completed"
    assert outcome["decision_summary"] == "Erased; files under a legal hold are kept."
    answered = client.post(
        f"{OWN}/{question['id']}/answer", json={"message": "All of them."}, headers=me
    )
    assert answered.get_json()["status"] == "in_progress"
    cancelled = client.post(f"{OWN}/{question['id']}/cancel", json={}, headers=me)
    assert cancelled.get_json()["status"] == "cancelled"
    refused = client.post(OWN, json={"kind": "access", "description": "more"}, headers=me)
    assert refused.status_code == 404
    # Another organisation's employee sees none of it.
    assert client.get(OWN, headers=foreigner).get_json()["items"] == []
    assert client.get(f"{OWN}/{erasure['id']}", headers=foreigner).status_code == 404
