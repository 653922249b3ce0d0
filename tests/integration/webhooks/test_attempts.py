"""Attempts: retried on the schedule until the receiver answers 2xx, given up after the last;
410 disables the endpoint; a name that now resolves inside is not called (DNS rebinding)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import update
from werkzeug import Response

from facito_admin.audit.models import AuditEvent
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.jobs.models import Job, JobState
from facito_admin.runtime import Runtime
from facito_admin.webhooks.delivery import DELIVERY_ATTEMPTS, DELIVERY_SECONDS
from facito_admin.webhooks.events import WebhookEventType, publish_event
from facito_admin.webhooks.models import DeliveryStatus, DisabledReason, WebhookDelivery
from facito_admin.webhooks.scheduling import MAX_ATTEMPTS, RETRY_SCHEDULE
from facito_admin.webhooks.tasks import sweep_deliveries
from tests.conftest import Org
from tests.factories.webhooks import (
    Receiver,
    deliveries,
    endpoint_row,
    job_row,
    make_endpoint,
    run_attempt,
)
from tests.fakes.dns import FakeDns


def _publish(runtime: Runtime, org: Org) -> uuid.UUID:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        publish_event(
            session,
            organisation_id=org.id,
            event_type=WebhookEventType.PolicyStatementPublished,
            data={"version": "2026-12"},
        )
    return deliveries(runtime, org.id)[-1].id


def _attempts(outcome: str) -> float:
    return DELIVERY_ATTEMPTS.labels(outcome)._value.get()


def _answered() -> float:
    (count,) = [s.value for s in DELIVERY_SECONDS.collect()[0].samples if s.name.endswith("_count")]
    return count


def _answers(receiver: Receiver, *statuses: int) -> None:
    for status in statuses:
        receiver.server.expect_ordered_request("/hook", method="POST").respond_with_response(
            Response(f"answer {status}", status=status)
        )


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(
    runtime: Runtime, org_a: Org, receiver: Receiver, local_receivers: object
):
    make_endpoint(runtime, org_a.id, receiver.url())
    _answers(receiver, 500, 500, 200)
    delivery_id = _publish(runtime, org_a)
    before = (_attempts("receiver_error"), _attempts("delivered"), _answered())

    first = run_attempt(runtime, org_a.id, delivery_id)
    assert (first.status, first.attempts, first.last_response_status) == (
        DeliveryStatus.pending,
        1,
        500,
    )
    assert first.last_error == "the receiver answered 500"
    assert first.last_response_excerpt == "answer 500"
    # The next attempt waits for the first step of the schedule, in a job of its own.
    waited = first.next_attempt_at - first.last_attempt_at
    assert RETRY_SCHEDULE[0] - timedelta(seconds=1) <= waited <= RETRY_SCHEDULE[0] + timedelta(1)
    assert job_row(runtime, org_a.id, first.job_id).available_at == first.next_attempt_at

    second = run_attempt(runtime, org_a.id, delivery_id)
    assert (second.status, second.attempts) == (DeliveryStatus.pending, 2)
    waited = second.next_attempt_at - second.last_attempt_at
    assert abs(waited - RETRY_SCHEDULE[1]) < timedelta(seconds=2)

    third = run_attempt(runtime, org_a.id, delivery_id)
    assert (third.status, third.attempts, third.last_response_status) == (
        DeliveryStatus.succeeded,
        3,
        200,
    )
    assert third.last_error is None and third.next_attempt_at is None
    receiver.server.check_assertions()
    webhook_ids = {request.headers["webhook-id"] for request, _ in receiver.server.log}
    assert webhook_ids == {third.event_id}
    # /metrics: two failed attempts and one delivered, three answers timed.
    after = (_attempts("receiver_error"), _attempts("delivered"), _answered())
    assert [later - earlier for later, earlier in zip(after, before, strict=True)] == [2, 1, 3]


def test_the_schedule_spans_about_three_days():
    total = sum(RETRY_SCHEDULE, timedelta())
    assert timedelta(days=2, hours=18) <= total <= timedelta(days=3, hours=6)
    assert len(RETRY_SCHEDULE) + 1 == MAX_ATTEMPTS


def test_a_delivery_whose_last_attempt_fails_is_failed(
    runtime: Runtime, org_a: Org, receiver: Receiver, local_receivers: object
):
    make_endpoint(runtime, org_a.id, receiver.url())
    receiver.server.expect_request("/hook").respond_with_data("down", status=503)
    delivery_id = _publish(runtime, org_a)
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(attempts=MAX_ATTEMPTS - 1)
        )
    done = run_attempt(runtime, org_a.id, delivery_id)
    assert (done.status, done.attempts, done.next_attempt_at) == (
        DeliveryStatus.failed,
        MAX_ATTEMPTS,
        None,
    )


def test_a_410_disables_the_endpoint_and_abandons_the_delivery(
    runtime: Runtime, org_a: Org, receiver: Receiver, local_receivers: object
):
    endpoint = make_endpoint(runtime, org_a.id, receiver.url())
    receiver.server.expect_request("/hook").respond_with_data("gone", status=410)
    delivery_id = _publish(runtime, org_a)
    second_id = _publish(runtime, org_a)

    done = run_attempt(runtime, org_a.id, delivery_id)
    assert (done.status, done.attempts, done.last_response_status) == (
        DeliveryStatus.abandoned,
        1,
        410,
    )
    row = endpoint_row(runtime, org_a.id, endpoint.id)
    assert (row.enabled, row.disabled_reason) == (False, DisabledReason.gone)
    with runtime.session(organisation_id=org_a.id) as session:
        [event] = session.query(AuditEvent).filter_by(action="org:webhook-endpoint:disable").all()
        assert event.details["reason"] == "gone"
    # The other event's attempt finds the endpoint disabled and calls nobody.
    other = run_attempt(runtime, org_a.id, second_id)
    assert other.status is DeliveryStatus.abandoned and other.attempts == 0
    assert len(receiver.server.log) == 1


def test_timeouts_and_refused_connections_are_failed_attempts(
    runtime: Runtime, org_a: Org, local_receivers: object
):
    make_endpoint(runtime, org_a.id, "https://127.0.0.1:9/hook")
    delivery_id = _publish(runtime, org_a)
    unanswered = _attempts("network_error")
    done = run_attempt(runtime, org_a.id, delivery_id)
    assert _attempts("network_error") == unanswered + 1
    assert (done.status, done.attempts, done.last_response_status) == (
        DeliveryStatus.pending,
        1,
        None,
    )
    assert done.last_error


def test_a_redirect_is_not_followed(
    runtime: Runtime, org_a: Org, receiver: Receiver, local_receivers: object
):
    make_endpoint(runtime, org_a.id, receiver.url())
    receiver.server.expect_request("/hook").respond_with_response(
        Response("", status=307, headers={"Location": "https://169.254.169.254/latest"})
    )
    done = run_attempt(runtime, org_a.id, _publish(runtime, org_a))
    assert (done.status, done.last_response_status) == (DeliveryStatus.pending, 307)
    assert len(receiver.server.log) == 1


def test_a_name_that_now_resolves_inside_is_not_called(
    runtime: Runtime, org_a: Org, dns_server: FakeDns
):
    # Registered while the name was public; at delivery time it points at the loopback.
    dns_server.addresses["rebind.example.test"] = ["127.0.0.1"]
    try:
        make_endpoint(runtime, org_a.id, "https://rebind.example.test/hook")
        done = run_attempt(runtime, org_a.id, _publish(runtime, org_a))
    finally:
        dns_server.reset()
    assert (done.status, done.attempts, done.last_response_status) == (
        DeliveryStatus.pending,
        1,
        None,
    )
    assert done.last_error == (
        "not sent: rebind.example.test resolves to 127.0.0.1, which is loopback"
    )


def test_a_named_receiver_is_reached_at_its_checked_address_with_its_name_for_tls(
    runtime: Runtime,
    org_a: Org,
    receiver: Receiver,
    local_receivers: object,
    dns_server: FakeDns,
):
    dns_server.addresses["hooks.example.test"] = ["127.0.0.1"]
    port = receiver.server.port
    receiver.server.expect_request(
        "/in/hook",
        method="POST",
        query_string="team=ops",
        headers={"Host": f"hooks.example.test:{port}"},
    ).respond_with_data("ok")
    try:
        make_endpoint(runtime, org_a.id, f"https://hooks.example.test:{port}/in/hook?team=ops")
        done = run_attempt(runtime, org_a.id, _publish(runtime, org_a))
    finally:
        dns_server.reset()
    assert (done.status, done.last_response_status) == (DeliveryStatus.succeeded, 200)


def test_a_receiver_with_an_untrusted_certificate_is_a_failed_attempt(
    runtime: Runtime, org_a: Org, receiver: Receiver, local_receivers: object
):
    # local_receivers puts the usual config back afterwards.
    runtime.webhooks = replace(runtime.webhooks, ca_bundle=None)
    make_endpoint(runtime, org_a.id, receiver.url())
    done = run_attempt(runtime, org_a.id, _publish(runtime, org_a))
    assert done.status is DeliveryStatus.pending
    assert "certificate" in (done.last_error or "").lower()
    assert receiver.server.log == []


def test_the_sweep_gives_a_new_job_to_a_delivery_whose_job_ended_without_an_attempt(
    runtime: Runtime, org_a: Org
):
    make_endpoint(runtime, org_a.id, "https://hooks.example.test/a")
    delivery_id = _publish(runtime, org_a)
    [stranded] = deliveries(runtime, org_a.id)
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        session.execute(update(Job).where(Job.id == stranded.job_id).values(state=JobState.failed))
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(next_attempt_at=utcnow() - timedelta(hours=1))
        )
    assert sweep_deliveries(runtime) == 1
    [rescheduled] = deliveries(runtime, org_a.id)
    assert rescheduled.job_id != stranded.job_id
    assert job_row(runtime, org_a.id, rescheduled.job_id).state is JobState.queued
    # A delivery whose job is still queued is left alone.
    assert sweep_deliveries(runtime) == 0


@pytest.mark.parametrize("secret_key", ["another key of at least thirty-two characters"])
def test_a_secret_that_no_longer_decrypts_is_a_failed_attempt_not_a_crash(
    runtime: Runtime, org_a: Org, receiver: Receiver, local_receivers: object, secret_key: str
):
    make_endpoint(runtime, org_a.id, receiver.url())
    runtime.webhooks = replace(
        runtime.webhooks, secret_key=secret_key
    )  # local_receivers restores it
    done = run_attempt(runtime, org_a.id, _publish(runtime, org_a))
    assert done.status is DeliveryStatus.pending and done.attempts == 1
    assert "rotate" in (done.last_error or "")
    assert receiver.server.log == []
