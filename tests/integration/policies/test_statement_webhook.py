"""Issue 5's end-to-end promise: a material statement version published with too short a
notice is refused; a valid one reaches every organisation as a notice and as a signed webhook,
which a receiver that failed twice gets on the third attempt."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from standardwebhooks import Webhook
from werkzeug import Request, Response

from facito_admin.jobs.models import Job
from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.runner import run_job
from facito_admin.policies.notices.tasks import NOTICE_JOB_KIND, enqueue_statement_notices
from facito_admin.runtime import Runtime
from facito_admin.webhooks.models import DeliveryStatus
from tests.api.policies.conftest import now
from tests.api.policies.helpers import DPO, create_draft, publish
from tests.conftest import Org
from tests.factories.webhooks import Receiver, deliveries, run_attempt
from tests.integration.webhooks.conftest import local_receivers, receiver, webhook_ca

__all__ = ["local_receivers", "now", "receiver", "webhook_ca"]

ADMIN = "Organisation.Admin"


def _run_notice_job(runtime: Runtime, org: Org) -> None:
    with runtime.session(organisation_id=org.id) as session:
        [job_id] = session.scalars(select(Job.id).where(Job.kind == NOTICE_JOB_KIND)).all()
    run_job(queue_of(runtime), org.id, job_id)


def test_a_published_material_statement_reaches_a_receiver_that_failed_twice(
    now,
    client: FlaskClient,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    auth,
    receiver: Receiver,
    local_receivers: object,
):
    dpo = auth(None, DPO)
    # The statement in force (8 March 2019) asks 30 days' notice for a material change.
    too_soon = create_draft(
        client, dpo, label="2026-too-soon", effective_from=now + timedelta(days=29), material=True
    )
    refused = publish(client, too_soon["id"], dpo)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "notice-period-too-short"

    admin = auth(org_a, ADMIN)
    endpoint = client.post(
        f"/v1/organisations/{org_a.id}/webhook-endpoints",
        json={"url": receiver.url(), "event_types": ["policy.statement_published"]},
        headers=admin,
    ).get_json()
    answers = iter([500, 500, 200])
    verified: list[dict] = []

    def receive(request: Request) -> Response:
        payload = Webhook(endpoint["secret"]).verify(request.get_data(), dict(request.headers))
        verified.append(payload)
        return Response("", status=next(answers))

    receiver.server.expect_request("/hook", method="POST").respond_with_handler(receive)
    valid = create_draft(
        client, dpo, label="2026-12", effective_from=now + timedelta(days=30), material=True
    )
    assert publish(client, valid["id"], dpo).status_code == 200

    assert enqueue_statement_notices(runtime) == 2
    _run_notice_job(runtime, org_a)
    _run_notice_job(runtime, org_b)
    [delivery] = deliveries(runtime, org_a.id)
    statuses = [run_attempt(runtime, org_a.id, delivery.id).status for _ in range(3)]

    assert statuses == [DeliveryStatus.pending, DeliveryStatus.pending, DeliveryStatus.succeeded]
    assert len(verified) == 3
    assert {p["type"] for p in verified} == {"policy.statement_published"}
    data = verified[-1]["data"]
    assert (data["statement_id"], data["version_label"], data["material"]) == (
        valid["id"],
        "2026-12",
        True,
    )
    notices = client.get(f"/v1/organisations/{org_a.id}/notices", headers=admin).get_json()
    assert [n["id"] for n in notices["items"]] == [data["notice_id"]]
    # Organisation B is told too, through its own notice; it registered no receiver.
    other = client.get(f"/v1/organisations/{org_b.id}/notices", headers=auth(org_b, ADMIN))
    assert [n["statement_id"] for n in other.get_json()["items"]] == [valid["id"]]
    assert deliveries(runtime, org_b.id) == []
    assert uuid.UUID(data["notice_id"]) != uuid.UUID(other.get_json()["items"][0]["id"])
