"""The jobs API: list, read and cancel an organisation's jobs; other organisations see nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from facito_admin.auth.permissions import GrantAccess
from facito_admin.db.session import unit_of_work
from facito_admin.jobs import enqueue_job
from facito_admin.jobs.actions import JobAction
from facito_admin.jobs.models import Job, JobState
from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.worker import EmbeddedConsumer
from facito_admin.runtime import Runtime
from tests.api.organisations.helpers import audit_trail
from tests.conftest import Org
from tests.factories.audit import admin_ctx
from tests.factories.support_access import grant_access


def _url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/jobs{suffix}"


def _enqueue(runtime: Runtime, org: Org, kind: str = "test.steps", **params: Any) -> str:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        job = enqueue_job(session, admin_ctx(org.id, display="Ada Admin"), kind=kind, params=params)
        return str(job.id)


def _set_state(runtime: Runtime, org: Org, job_id: str, state: JobState) -> None:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        session.execute(
            update(Job)
            .where(Job.id == uuid.UUID(job_id))
            .values(state=state)
            .execution_options(synchronize_session=False)
        )


@pytest.fixture
def consumer(runtime: Runtime) -> Iterator[EmbeddedConsumer]:
    """A consumer on the app's own queue, as `make run` starts one."""
    running = EmbeddedConsumer(queue_of(runtime), workers=2, periodic=False)
    running.start_in_background()
    yield running
    running.shutdown(timeout=10)


def test_a_job_is_followed_through_the_api_until_it_succeeds(
    client: FlaskClient, runtime: Runtime, consumer, org_a: Org, org_b: Org, auth
):
    job_id = _enqueue(runtime, org_a, steps=3)
    reader = auth(org_a, "Organisation.Reader")
    deadline = time.monotonic() + 15
    while True:
        response = client.get(_url(org_a, f"/{job_id}"), headers=reader)
        assert response.status_code == 200
        job = response.get_json()
        if job["state"] == "succeeded" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert job["state"] == "succeeded"
    assert (job["progress_done"], job["progress_total"]) == (3, 3)
    assert job["result"] == {"steps": 3, "resumed_from": 0, "attempt": 1}
    assert job["kind"] == "test.steps"
    assert job["params"] == {"steps": 3}
    assert job["created_by"] == "Ada Admin"
    assert job["error"] is None
    assert job["finished_at"].endswith("Z")
    assert "checkpoint" not in job and "lease" not in job
    other = client.get(_url(org_a, f"/{job_id}"), headers=auth(org_b, "Organisation.Admin"))
    assert other.status_code == 404


def test_listing_shows_the_organisations_jobs_newest_first_with_filters_and_pages(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth
):
    first = _enqueue(runtime, org_a, steps=1)
    second = _enqueue(runtime, org_a, "test.block")
    third = _enqueue(runtime, org_a, steps=2)
    _set_state(runtime, org_a, first, JobState.succeeded)
    b_job = _enqueue(runtime, org_b, steps=1)
    admin = auth(org_a, "Organisation.Admin")

    listed = client.get(_url(org_a), headers=admin).get_json()
    assert [j["id"] for j in listed["items"]] == [third, second, first]
    assert listed["next_cursor"] is None

    by_kind = client.get(_url(org_a), query_string={"kind": "test.steps"}, headers=admin)
    assert [j["id"] for j in by_kind.get_json()["items"]] == [third, first]
    by_state = client.get(
        _url(org_a), query_string={"kind": "test.steps", "state": "queued"}, headers=admin
    )
    assert [j["id"] for j in by_state.get_json()["items"]] == [third]

    page = client.get(_url(org_a), query_string={"limit": 2}, headers=admin)
    assert [j["id"] for j in page.get_json()["items"]] == [third, second]
    assert 'rel="next"' in page.headers["Link"]
    rest = client.get(
        _url(org_a),
        query_string={"limit": 2, "cursor": page.get_json()["next_cursor"]},
        headers=admin,
    )
    assert [j["id"] for j in rest.get_json()["items"]] == [first]

    b_listed = client.get(_url(org_b), headers=auth(org_b, "Organisation.Reader")).get_json()
    assert [j["id"] for j in b_listed["items"]] == [b_job]
    bad = client.get(_url(org_a), query_string={"state": "sleeping"}, headers=admin)
    assert bad.status_code == 422


def test_every_job_route_of_one_organisation_is_a_404_for_another(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth
):
    job_id = _enqueue(runtime, org_a, steps=1)
    b_admin = auth(org_b, "Organisation.Admin")
    assert client.get(_url(org_a), headers=b_admin).status_code == 404
    assert client.get(_url(org_a, f"/{job_id}"), headers=b_admin).status_code == 404
    assert client.post(_url(org_a, f"/{job_id}/cancel"), headers=b_admin).status_code == 404
    # Nor does A's job show up under B's own path.
    assert client.get(_url(org_b, f"/{job_id}"), headers=b_admin).status_code == 404
    assert client.post(_url(org_b, f"/{job_id}/cancel"), headers=b_admin).status_code == 404
    admin = auth(org_a, "Organisation.Admin")
    assert client.get(_url(org_a, f"/{uuid.uuid4()}"), headers=admin).status_code == 404
    assert client.get(_url(org_a, f"/{job_id}"), headers=admin).status_code == 200


def test_cancelling_a_queued_job_ends_it_and_is_audited(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth
):
    job_id = _enqueue(runtime, org_a, steps=1)
    response = client.post(
        _url(org_a, f"/{job_id}/cancel"), headers=auth(org_a, "Organisation.Admin")
    )
    assert response.status_code == 200
    job = response.get_json()
    assert (job["state"], job["cancel_requested"]) == ("cancelled", True)
    assert job["finished_at"] is not None
    event = audit_trail(runtime, org_a.id)[-1]
    assert event["action"] == JobAction.JobCancel
    assert event["target_id"] == job_id
    assert event["details"] == {"kind": "test.steps"}
    assert "org:job:cancel" not in [e["action"] for e in audit_trail(runtime, org_b.id)]

    again = client.post(_url(org_a, f"/{job_id}/cancel"), headers=auth(org_a, "Organisation.Admin"))
    assert again.status_code == 409
    assert again.get_json()["code"] == "job-finished"


def test_cancelling_a_running_job_asks_its_worker_to_stop(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth
):
    job_id = _enqueue(runtime, org_a, "test.block")
    _set_state(runtime, org_a, job_id, JobState.running)
    integration = auth(org_a, "Integration.ReadWrite", app=True)
    response = client.post(_url(org_a, f"/{job_id}/cancel"), headers=integration)
    assert response.status_code == 200
    job = response.get_json()
    assert (job["state"], job["cancel_requested"], job["finished_at"]) == ("running", True, None)
    assert audit_trail(runtime, org_a.id)[-1]["action"] == JobAction.JobCancel


def test_readers_see_jobs_but_cannot_cancel_them(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth
):
    job_id = _enqueue(runtime, org_a, steps=1)
    reader = auth(org_a, "Organisation.Reader")
    assert client.get(_url(org_a, f"/{job_id}"), headers=reader).status_code == 200
    refused = client.post(_url(org_a, f"/{job_id}/cancel"), headers=reader)
    assert refused.status_code == 403
    assert refused.get_json()["missing_permissions"] == ["org:jobs:write"]
    privacy = auth(org_a, "Privacy.Officer")
    assert client.get(_url(org_a), headers=privacy).status_code == 403


def test_operators_reach_an_organisations_jobs_only_through_a_grant(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth
):
    job_id = _enqueue(runtime, org_a, steps=1)
    oid = str(uuid.uuid4())
    operator = auth(None, "Facito.Operator", oid=oid)
    assert client.get(_url(org_a, f"/{job_id}"), headers=operator).status_code == 404
    grant_access(runtime, org_a.id, oid, access=GrantAccess.ReadWrite, resource_kinds=("jobs",))
    assert client.get(_url(org_a, f"/{job_id}"), headers=operator).status_code == 200
    assert client.get(_url(org_b), headers=operator).status_code == 404
    missing = client.get(f"/v1/organisations/{uuid.uuid4()}/jobs", headers=operator)
    assert missing.status_code == 404
    cancelled = client.post(_url(org_a, f"/{job_id}/cancel"), headers=operator)
    assert cancelled.status_code == 200
