"""Retention through the API: start a run (a job), preview what expires, read the deletion
certificates; readers read, writers start runs, another organisation sees nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.runner import run_job
from facito_admin.retention.actions import RetentionAction
from facito_admin.runtime import Runtime
from tests.api.contracts.helpers import rfc3339
from tests.api.organisations.helpers import audit_trail
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.retention import add_record, record_ids

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"
READER = "Organisation.Reader"
ERRORS = "usage.error_reports"


def url(org: Org, suffix: str) -> str:
    return f"/v1/organisations/{org.id}{suffix}"


def test_a_run_started_by_api_purges_and_its_certificate_is_readable(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    held_account = make_account(runtime, org_a.id, "held").id
    free_account = make_account(runtime, org_a.id, "free").id
    old = utcnow() - timedelta(days=100)
    held = add_record(runtime, org_a.id, held_account, category=ERRORS, occurred_at=old)
    add_record(runtime, org_a.id, free_account, category=ERRORS, occurred_at=old)
    admin, reader = auth(org_a, ADMIN), auth(org_a, READER)
    hold = client.post(
        url(org_a, "/legal-holds"),
        json={"reason": "claim", "account_id": str(held_account)},
        headers=admin,
    ).get_json()

    preview = client.get(url(org_a, "/retention/preview"), headers=reader)
    assert preview.status_code == 200, preview.get_json()
    assert preview.get_json()["removable"] == {ERRORS: 1}
    assert preview.get_json()["kept_by_holds"]["holds"] == {hold["id"]: 1}
    later = rfc3339(utcnow() + timedelta(days=1))
    assert (
        client.get(
            url(org_a, "/retention/preview"), query_string={"until": later}, headers=reader
        ).get_json()["removable_total"]
        == 1
    )

    started = client.post(url(org_a, "/retention/runs"), json={}, headers=admin)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert job["kind"] == "retention-run"
    assert started.headers["Location"].endswith(f"/jobs/{job['id']}")
    busy = client.post(url(org_a, "/retention/runs"), json={}, headers=admin)
    assert busy.status_code == 409
    assert busy.get_json()["code"] == "retention-run-in-progress"

    run_job(queue_of(runtime), org_a.id, uuid.UUID(job["id"]))
    finished = client.get(url(org_a, f"/jobs/{job['id']}"), headers=reader).get_json()
    assert finished["state"] == "succeeded"
    assert (finished["progress_done"], finished["progress_total"]) == (1, 1)
    assert record_ids(runtime, org_a.id) == {held}

    listed = client.get(url(org_a, "/deletion-certificates"), headers=reader).get_json()
    [certificate] = listed["items"]
    assert certificate["id"] == finished["result"]["deletion_certificate_id"]
    assert (certificate["kind"], certificate["removed_total"]) == ("retention", 1)
    assert certificate["kept_by_holds"]["holds"] == {hold["id"]: 1}
    one = client.get(url(org_a, f"/deletion-certificates/{certificate['id']}"), headers=reader)
    assert one.get_json() == certificate
    by_kind = client.get(
        url(org_a, "/deletion-certificates"), query_string={"kind": "account_purge"}, headers=reader
    )
    assert by_kind.get_json()["items"] == []
    assert RetentionAction.RetentionRunStart in [
        e["action"] for e in audit_trail(runtime, org_a.id)
    ]

    admin_b = auth(org_b, ADMIN)
    path_b = url(org_b, f"/deletion-certificates/{certificate['id']}")
    assert client.get(path_b, headers=admin_b).status_code == 404
    assert (
        client.get(url(org_b, "/deletion-certificates"), headers=admin_b).get_json()["items"] == []
    )
    assert client.get(url(org_a, "/deletion-certificates"), headers=admin_b).status_code == 404


def test_readers_cannot_start_runs(client: FlaskClient, org_a: Org, auth: Auth):
    response = client.post(url(org_a, "/retention/runs"), json={}, headers=auth(org_a, READER))
    assert response.status_code == 403


def test_the_preview_refuses_an_instant_without_a_timezone(
    client: FlaskClient, org_a: Org, auth: Auth
):
    response = client.get(
        url(org_a, "/retention/preview"),
        query_string={"until": "2026-01-01T00:00:00"},
        headers=auth(org_a, READER),
    )
    assert response.status_code == 422


def _run(client: FlaskClient, runtime: Runtime, org: Org, admin: dict[str, str]) -> dict:
    started = client.post(url(org, "/retention/runs"), json={}, headers=admin)
    assert started.status_code == 202, started.get_json()
    run_job(queue_of(runtime), org.id, uuid.UUID(started.get_json()["id"]))
    finished = client.get(url(org, f"/jobs/{started.get_json()['id']}"), headers=admin)
    assert finished.get_json()["state"] == "succeeded", finished.get_json()
    return finished.get_json()


def test_a_held_record_outlives_its_twin_and_goes_with_the_next_run_once_released(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    """Issue 10's story, every step over the API: ingest twins, hold one, run, release, run."""
    admin = auth(org_a, ADMIN)
    held_account = make_account(runtime, org_a.id, "held").id
    free_account = make_account(runtime, org_a.id, "free").id
    old = rfc3339(utcnow() - timedelta(days=400))  # error reports are kept 90 days
    twins = [
        {
            "account_id": str(account),
            "product": "website-hosting",
            "category": ERRORS,
            "source_system": "crash-reporter",
            "external_key": f"report-{name}",
            "storage": {"subprocessor": "transip", "region": "transip-nl-amsterdam"},
            "occurred_at": old,
            "content": {"stack": "…"},
        }
        for name, account in (("held", held_account), ("free", free_account))
    ]
    ingested = client.post(
        url(org_a, "/data-records/batch"), json={"records": twins}, headers=admin
    )
    assert ingested.status_code == 200, ingested.get_json()
    held_id = ingested.get_json()["records"][0]["id"]
    hold = client.post(
        url(org_a, "/legal-holds"),
        json={"reason": "Litigation", "account_id": str(held_account), "category": ERRORS},
        headers=admin,
    ).get_json()

    first = _run(client, runtime, org_a, admin)
    assert record_ids(runtime, org_a.id) == {uuid.UUID(held_id)}
    released = client.post(
        url(org_a, f"/legal-holds/{hold['id']}/release"),
        json={"reason": "Settled"},
        headers=admin,
    )
    assert released.status_code == 200, released.get_json()
    second = _run(client, runtime, org_a, admin)
    assert record_ids(runtime, org_a.id) == set()

    certificates = client.get(url(org_a, "/deletion-certificates"), headers=admin).get_json()
    by_id = {c["id"]: c for c in certificates["items"]}
    one = by_id[first["result"]["deletion_certificate_id"]]
    two = by_id[second["result"]["deletion_certificate_id"]]
    assert (one["removed_total"], one["kept_by_holds"]["holds"]) == (1, {hold["id"]: 1})
    assert (two["removed_total"], two["kept_by_holds"]["holds"]) == (1, {})
