"""publish_event: one delivery per subscribed, enabled endpoint of the organisation, in the
caller's transaction; its attempt is a job that signs and posts to the receiver."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from werkzeug import Request, Response

from facito_admin.db.session import cross_organisation_session, unit_of_work
from facito_admin.db.tenancy import TenancyViolation
from facito_admin.jobs.models import Job, JobState
from facito_admin.runtime import Runtime
from facito_admin.webhooks.events import WebhookEventType, publish_event
from facito_admin.webhooks.models import DeliveryStatus
from facito_admin.webhooks.scheduling import DELIVERY_KIND
from tests.conftest import Org
from tests.factories.webhooks import (
    Receiver,
    deliveries,
    job_row,
    make_endpoint,
    run_attempt,
)

PUBLISHED = WebhookEventType.PolicyStatementPublished
CONTRACT = WebhookEventType.PolicyContractChanged


def _publish(runtime: Runtime, org: Org, event_type: WebhookEventType = PUBLISHED) -> None:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        publish_event(
            session, organisation_id=org.id, event_type=event_type, data={"version": "2019-03-08"}
        )


def test_a_published_event_reaches_a_receiver_that_verifies_its_signature(
    runtime: Runtime, org_a: Org, receiver: Receiver, local_receivers: object
):
    endpoint = make_endpoint(runtime, org_a.id, receiver.url())
    verified: list[tuple[str, dict]] = []

    def verify(request: Request) -> Response:
        try:
            payload = Webhook(endpoint.secret).verify(request.get_data(), dict(request.headers))
        except WebhookVerificationError:
            return Response("bad signature", status=401)
        verified.append((request.headers["webhook-id"], payload))
        return Response("thanks", status=200)

    receiver.server.expect_request("/hook", method="POST").respond_with_handler(verify)
    _publish(runtime, org_a)

    [pending] = deliveries(runtime, org_a.id)
    assert pending.status is DeliveryStatus.pending
    assert pending.attempts == 0
    assert pending.event_id.startswith("msg_")
    assert job_row(runtime, org_a.id, pending.job_id).kind == DELIVERY_KIND

    done = run_attempt(runtime, org_a.id, pending.id)
    assert done.status is DeliveryStatus.succeeded
    assert (done.attempts, done.last_response_status, done.last_error) == (1, 200, None)
    assert done.last_response_excerpt == "thanks"
    assert done.next_attempt_at is None and done.finished_at is not None
    assert verified == [
        (
            done.event_id,
            {
                "type": "policy.statement_published",
                "timestamp": done.payload["timestamp"],
                "data": {"version": "2019-03-08"},
            },
        )
    ]


def test_only_enabled_endpoints_subscribed_to_the_type_get_a_delivery(runtime: Runtime, org_a: Org):
    subscribed = make_endpoint(runtime, org_a.id, "https://hooks.example.test/a")
    make_endpoint(runtime, org_a.id, "https://hooks.example.test/b", event_types=[CONTRACT])
    make_endpoint(runtime, org_a.id, "https://hooks.example.test/c", enabled=False)
    _publish(runtime, org_a)
    assert [d.endpoint_id for d in deliveries(runtime, org_a.id)] == [subscribed.id]


def test_an_event_of_one_organisation_never_reaches_another_organisations_endpoints(
    runtime: Runtime, org_a: Org, org_b: Org
):
    make_endpoint(runtime, org_b.id, "https://hooks.example.test/b")
    _publish(runtime, org_a)
    assert deliveries(runtime, org_b.id) == []


def test_nothing_is_delivered_when_the_callers_transaction_rolls_back(runtime: Runtime, org_a: Org):
    make_endpoint(runtime, org_a.id, "https://hooks.example.test/a")
    with pytest.raises(RuntimeError), unit_of_work(runtime, organisation_id=org_a.id) as session:
        publish_event(session, organisation_id=org_a.id, event_type=PUBLISHED, data={})
        raise RuntimeError("the caller's change failed")
    assert deliveries(runtime, org_a.id) == []
    with runtime.session(organisation_id=org_a.id) as session:
        assert session.scalars(select(Job)).all() == []


def test_an_event_for_every_organisation_can_be_published_from_a_cross_organisation_session(
    runtime: Runtime, org_a: Org, org_b: Org
):
    make_endpoint(runtime, org_a.id, "https://hooks.example.test/a")
    make_endpoint(runtime, org_b.id, "https://hooks.example.test/b")
    with cross_organisation_session(runtime, reason="test: a statement for all") as session:
        for org in (org_a, org_b):
            publish_event(session, organisation_id=org.id, event_type=PUBLISHED, data={})
    [a] = deliveries(runtime, org_a.id)
    [b] = deliveries(runtime, org_b.id)
    assert a.event_id != b.event_id
    assert job_row(runtime, org_b.id, b.job_id).state is JobState.queued


def test_a_session_of_another_organisation_cannot_publish(runtime: Runtime, org_a: Org, org_b: Org):
    with (
        pytest.raises(TenancyViolation),
        unit_of_work(runtime, organisation_id=org_b.id) as session,
    ):
        publish_event(session, organisation_id=org_a.id, event_type=PUBLISHED, data={})


def test_event_data_must_be_json(runtime: Runtime, org_a: Org):
    make_endpoint(runtime, org_a.id, "https://hooks.example.test/a")
    with pytest.raises(TypeError), unit_of_work(runtime, organisation_id=org_a.id) as session:
        publish_event(session, organisation_id=org_a.id, event_type=PUBLISHED, data={"x": {1, 2}})
