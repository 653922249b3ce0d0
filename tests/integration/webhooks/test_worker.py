"""With a real consumer: the first attempt runs after the publishing commit, and the retry
runs when its held-back queue message comes due (5 s later), without anyone driving it."""

from __future__ import annotations

import time

import pytest
from werkzeug import Response

from facito_admin.db.session import unit_of_work
from facito_admin.outbound import WebhookConfig
from facito_admin.webhooks.events import WebhookEventType, publish_event
from facito_admin.webhooks.models import DeliveryStatus
from tests.conftest import Org
from tests.factories.jobs import QueueHarness
from tests.factories.webhooks import Receiver, deliveries, delivery, make_endpoint


@pytest.mark.slow
def test_a_consumer_delivers_and_retries_on_its_own(
    jobs: QueueHarness, org_a: Org, receiver: Receiver, local_receivers: WebhookConfig
):
    jobs.runtime.webhooks = local_receivers
    assert jobs.runtime.webhooks.allow_private
    make_endpoint(jobs.runtime, org_a.id, receiver.url())
    for status in (503, 200):
        receiver.server.expect_ordered_request("/hook").respond_with_response(
            Response("", status=status)
        )
    jobs.start(workers=2)
    with unit_of_work(jobs.runtime, organisation_id=org_a.id) as session:
        publish_event(
            session,
            organisation_id=org_a.id,
            event_type=WebhookEventType.PolicyStatementPublished,
            data={"version": "2026-12"},
        )
    [published] = deliveries(jobs.runtime, org_a.id)
    deadline = time.monotonic() + 20
    while True:
        row = delivery(jobs.runtime, org_a.id, published.id)
        if row.status is not DeliveryStatus.pending or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (row.status, row.attempts, row.last_response_status) == (
        DeliveryStatus.succeeded,
        2,
        200,
    )
    gap = row.last_attempt_at - row.created_at
    assert gap.total_seconds() >= 4.5
