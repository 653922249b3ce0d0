"""Offboarding an organisation and moving its return period, for the tests."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.jobs.models import Job, JobState
from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.runner import run_job
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Organisation
from tests.conftest import Org

ADMIN = "Organisation.Admin"


def exports_url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/exports{suffix}"


def offboard(client: FlaskClient, org: Org, operator: dict[str, str]) -> dict[str, Any]:
    response = client.post(
        f"/v1/organisations/{org.id}/offboard", json={"reason": "contract ended"}, headers=operator
    )
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def end_return_period(runtime: Runtime, org: Org, *, ago: timedelta = timedelta(minutes=1)) -> None:
    """Move the organisation's return period into the past (the tenant cache forgets it)."""
    with runtime.session(write=True) as session, session.begin():
        organisation = session.get(Organisation, org.id)
        assert organisation is not None
        organisation.data_return_until = utcnow() - ago


def start_export(client: FlaskClient, org: Org, headers: dict[str, str]) -> uuid.UUID:
    """Start an export; its id (from the job's params)."""
    response = client.post(exports_url(org), headers=headers)
    assert response.status_code == 202, response.get_json()
    assert response.headers["Location"].endswith(f"/jobs/{response.get_json()['id']}")
    return uuid.UUID(response.get_json()["params"]["export_id"])


def run_export(client: FlaskClient, runtime: Runtime, org: Org, headers: dict[str, str]) -> Any:
    """Start an export and run its job; the export afterwards."""
    export_id = start_export(client, org, headers)
    export = client.get(exports_url(org, f"/{export_id}"), headers=headers).get_json()
    assert export["status"] == "pending"
    job_id = uuid.UUID(export["job_id"])
    run_job(queue_of(runtime), org.id, job_id)
    # Read as stored: a privacy officer follows the export itself, not the jobs route.
    with runtime.session(organisation_id=org.id) as session:
        job = session.get(Job, (org.id, job_id))
        assert job is not None
        assert job.state is JobState.succeeded, job.error
    return client.get(exports_url(org, f"/{export_id}"), headers=headers).get_json()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def lines(member: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in member.decode().splitlines() if line]
