"""URLs, people and bodies shared by the data-subject request API tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.runner import run_job
from facito_admin.runtime import Runtime
from facito_admin.subject_requests.models import FacitoSubjectRequest, SubjectRequest
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


def person(runtime: Runtime, org: Org, n: int = 1, **fields: Any) -> tuple[uuid.UUID, str]:
    """An account of ``org`` and its person's Entra object id (mint their token with it)."""
    oid = str(uuid.uuid4())
    account = make_account(runtime, org.id, n, entra_oid=oid, **fields)
    return account.id, oid


def employee(
    runtime: Runtime, org: Org, auth: Auth, n: int = 1
) -> tuple[uuid.UUID, dict[str, str]]:
    """An account of ``org`` and the headers of its person's own delegated token."""
    account_id, oid = person(runtime, org, n)
    return account_id, auth(org, oid=oid)


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


def dpo_requests(runtime: Runtime) -> list[FacitoSubjectRequest]:
    """Every row of Facito's DPO queue, read from the table itself (no API reads it yet)."""
    with runtime.session() as session:
        return list(session.scalars(select(FacitoSubjectRequest).order_by(FacitoSubjectRequest.id)))


def queue_rows(runtime: Runtime, org: Org) -> list[SubjectRequest]:
    """The organisation's queue, read from the table itself."""
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(SubjectRequest).order_by(SubjectRequest.id)))


def act(
    client: FlaskClient,
    org: Org,
    headers: dict[str, str],
    request_id: str,
    action: str,
    body: dict[str, Any] | None = None,
) -> Any:
    """POST one handling action (``verify``, ``extend``, ``reject``…) on a queued request."""
    return client.post(queue_url(org, f"/{request_id}/{action}"), json=body or {}, headers=headers)


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem document of a refusal with ``status``."""
    assert response.status_code == status, (response.status_code, response.get_json())
    assert response.mimetype == "application/problem+json"
    return dict(response.get_json())
