"""A directory sync publishes the same account events as REST and SCIM, in bulk: one endpoint
lookup per page, a delivery per event for each subscribed endpoint, nothing for the others."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import event as sa_event
from standardwebhooks import Webhook
from werkzeug import Request, Response

from facito_admin.jobs.models import JobState
from facito_admin.outbound import WebhookConfig
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.directory_sync import SyncHarness
from tests.factories.runtime import swapped
from tests.factories.webhooks import (
    Receiver,
    deliveries,
    local_receivers,
    make_endpoint,
    receiver,
    webhook_ca,
)
from tests.fakes.graph import FakeGraph, graph_user, object_id

__all__ = ["local_receivers", "receiver", "webhook_ca"]

ACCOUNT_EVENTS = [
    "account.created",
    "account.updated",
    "account.disabled",
    "account.enabled",
    "account.deleted",
    "account.restored",
]


def _run(syncs: SyncHarness, org: Org, mode: str) -> None:
    job = syncs.run(org, mode)
    assert job.state is JobState.succeeded, job.error


def _events(runtime: Runtime, org: Org) -> list[tuple[str, dict]]:
    return [(d.event_type, d.payload["data"]) for d in deliveries(runtime, org.id)]


@pytest.fixture
def worker_receivers(syncs: SyncHarness, local_receivers: WebhookConfig) -> Iterator[None]:
    """The sync's worker, on a runtime of its own, may call the local receiver too."""
    with swapped(syncs.runtime, webhooks=local_receivers):
        yield


def test_sync_changes_reach_the_subscribed_endpoint_only(
    syncs: SyncHarness,
    graph: FakeGraph,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    receiver: Receiver,
    worker_receivers: None,
):
    endpoint = make_endpoint(runtime, org_a.id, receiver.url(), event_types=ACCOUNT_EVENTS)
    received: list[dict] = []

    def verify(request: Request) -> Response:
        received.append(Webhook(endpoint.secret).verify(request.get_data(), dict(request.headers)))
        return Response("", status=204)

    # The sync's worker delivers what the sync publishes, as it would in production.
    receiver.server.expect_request("/hook", method="POST").respond_with_handler(verify)
    make_endpoint(runtime, org_a.id, receiver.url("/x"), event_types=["policy.contract_changed"])
    make_endpoint(runtime, org_b.id, receiver.url("/b"), event_types=ACCOUNT_EVENTS)
    graph.add_range(0, 3)
    _run(syncs, org_a, "full")
    created = _events(runtime, org_a)
    assert [t for t, _ in created] == ["account.created"] * 3
    assert {d["source"] for _, d in created} == {"graph"}
    by_oid = syncs.by_oid(org_a)
    ids = {str(by_oid[object_id(n)].id): n for n in range(3)}
    assert set(ids) == {d["account_id"] for _, d in created}

    graph.update(object_id(0), department="Finance")
    graph.update(object_id(1), accountEnabled=False)
    graph.remove(object_id(2), "deleted")
    _run(syncs, org_a, "delta")
    graph.update(object_id(1), accountEnabled=True)
    graph.add(graph_user(2))
    _run(syncs, org_a, "delta")

    later = _events(runtime, org_a)[3:]
    assert sorted((t, ids[d["account_id"]]) for t, d in later) == [
        ("account.deleted", 2),
        ("account.disabled", 1),
        ("account.enabled", 1),
        ("account.restored", 2),
        ("account.updated", 0),
    ]
    updated = next(d for t, d in later if t == "account.updated")
    assert updated["fields"] == ["department"]
    deleted = next(d for t, d in later if t == "account.deleted")
    assert (deleted["status"], "purge_after" in deleted) == ("deleted", True)
    assert deliveries(runtime, org_b.id) == []

    # Delivered by the worker and verifiable like any other event; org B's endpoint hears nothing.
    deadline = time.monotonic() + 30
    while {d.status.value for d in deliveries(runtime, org_a.id)} != {"succeeded"}:
        assert time.monotonic() < deadline, [d.last_error for d in deliveries(runtime, org_a.id)]
        time.sleep(0.05)
    assert sorted(r["type"] for r in received) == sorted(t for t, _ in _events(runtime, org_a))
    # Two workers deliver side by side: the order of arrival is theirs.
    assert sorted(r["data"]["account_id"] for r in received if r["type"] == "account.created") == (
        sorted(d["account_id"] for _, d in created)
    )
    assert {request.path for request, _ in receiver.server.log} == {"/hook"}


def test_a_sync_without_subscribed_endpoints_reads_the_endpoints_once_per_page(
    syncs: SyncHarness, graph: FakeGraph, runtime: Runtime, org_a: Org
):
    make_endpoint(
        runtime, org_a.id, "https://hooks.example.test/", event_types=["legal_hold.placed"]
    )
    graph.add_range(0, 30)
    lookups: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if "FROM webhook_endpoints" in statement:
            lookups.append(statement)

    engine = syncs.runtime.database.engine
    sa_event.listen(engine, "before_cursor_execute", note)
    try:
        _run(syncs, org_a, "full")
    finally:
        sa_event.remove(engine, "before_cursor_execute", note)
    assert len(syncs.accounts(org_a)) == 30
    assert len(lookups) == 1  # one page of 30 users: one lookup, not thirty
    assert deliveries(runtime, org_a.id) == []
