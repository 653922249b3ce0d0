"""URLs, people and bodies shared by the data-subject request API tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.runner import run_job
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.accounts import make_account

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"
READER = "Organisation.Reader"
OFFICER = "Privacy.Officer"
INTEGRATION = "Integration.ReadWrite"
OWN = "/v1/me/data-subject-requests"
DPO = "Facito.PrivacyOfficer"
SUPPORT = "Support.Engineer"
DPO_QUEUE = "/v1/data-subject-requests"


def queue_url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/data-subject-requests{suffix}"


def employee(
    runtime: Runtime, org: Org, auth: Auth, n: int = 1
) -> tuple[uuid.UUID, dict[str, str]]:
    """An account of ``org`` and the headers of its person's own delegated token."""
    oid = str(uuid.uuid4())
    account = make_account(runtime, org.id, n, entra_oid=oid)
    return account.id, auth(org, oid=oid)


def file_own(
    client: FlaskClient, headers: dict[str, str], kind: str = "access", **body: Any
) -> dict[str, Any]:
    response = client.post(
        OWN, json={"kind": kind, "description": "all my data, please"} | body, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def file_for(
    client: FlaskClient,
    org: Org,
    headers: dict[str, str],
    account_id: uuid.UUID | str,
    kind: str = "access",
    **body: Any,
) -> Any:
    return client.post(
        queue_url(org),
        json={"account_id": str(account_id), "kind": kind, "description": "by phone"} | body,
        headers=headers,
    )


def dpo_url(suffix: str = "") -> str:
    return f"{DPO_QUEUE}{suffix}"


def record_personal(
    client: FlaskClient,
    headers: dict[str, str],
    kind: str = "access",
    *,
    email: str = "jan@example.nl",
    channel: str = "phone",
    **body: Any,
) -> Any:
    """A personal subject's request recorded in the DPO queue (by the DPO or support)."""
    return client.post(
        DPO_QUEUE,
        json={
            "subject": {"display_name": "Jan de Vries", "email": email},
            "kind": kind,
            "description": "he asked on the phone for all his data",
            "channel": channel,
        }
        | body,
        headers=headers,
    )


def fulfil(
    client: FlaskClient, runtime: Runtime, org: Org, headers: dict[str, str], request_id: str
) -> dict[str, Any]:
    """Start the request's fulfilment (202, a job) and run the job here, as a worker would;
    the finished job as the API shows it."""
    started = client.post(queue_url(org, f"/{request_id}/fulfil"), headers=headers)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    run_job(queue_of(runtime), org.id, uuid.UUID(job["id"]))
    finished = client.get(f"/v1/organisations/{org.id}/jobs/{job['id']}", headers=headers)
    return dict(finished.get_json())


def read_request(
    client: FlaskClient, org: Org, headers: dict[str, str], request_id: str
) -> dict[str, Any]:
    response = client.get(queue_url(org, f"/{request_id}"), headers=headers)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())
