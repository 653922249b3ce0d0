"""What Graph may answer besides a page: throttling, foreign links, refusals."""

from __future__ import annotations

from facito_admin.jobs.models import JobState
from tests.conftest import TENANT_A, Org
from tests.factories.directory_sync import SyncHarness
from tests.fakes.graph import FakeGraph


def _page_requests(graph: FakeGraph) -> list[float]:
    return [at for at, path, query, _ in graph.requests if path == "/v1.0/users"]


def test_throttling_is_waited_out_for_as_long_as_retry_after_says(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    graph.add_range(0, 30)
    graph.throttle(2, retry_after="0.45")
    job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded, job.error
    assert (job.attempts, job.result["created"]) == (1, 30)  # type: ignore[index]
    first, second, third = _page_requests(graph)
    # Fractional seconds, honoured each time (within the same attempt).
    assert second - first >= 0.45
    assert third - second >= 0.45


def test_throttling_without_retry_after_backs_off_and_a_503_counts_as_throttling(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    graph.add_range(0, 3)
    graph.throttle(1, retry_after=None)
    graph.throttle(1, retry_after="0.1", status=503)
    job = syncs.run(org_a, "full")
    assert job.state is JobState.succeeded, job.error
    first, second, _third = _page_requests(graph)
    assert second - first >= 0.05  # the harness's backoff base


def test_endless_throttling_fails_the_job_with_a_clear_retryable_error(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    graph.add_range(0, 3)
    graph.throttle(1000, retry_after="0.01")
    job = syncs.run(org_a, "full")
    assert job.state is JobState.failed
    assert job.error == (
        "Microsoft Graph kept failing (throttled, 429 TooManyRequests) after 3 retries"
    )
    # Retried by the runner as well (each attempt with its own bounded retries).
    assert job.attempts == job.max_attempts == 5
    assert len(_page_requests(graph)) == 5 * 4
    assert syncs.accounts(org_a) == []


def test_a_next_link_to_another_host_is_refused(syncs: SyncHarness, graph: FakeGraph, org_a: Org):
    graph.add_range(0, 30)
    graph.page_size = 10
    graph.foreign_host = "graph.evil.example"
    job = syncs.run(org_a, "full")
    assert job.state is JobState.failed
    assert job.attempts == 1  # not retried: it would only happen again
    assert job.error == "Graph returned a paging link to another host (graph.evil.example); refused"
    # The page that carried the link is not applied, and nothing was sent elsewhere.
    assert syncs.accounts(org_a) == []


def test_a_tenant_that_refuses_the_app_fails_at_once(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    syncs.fakes.entra.reset()
    syncs.fakes.entra.refuse_tokens(
        TENANT_A, 400, {"error": "unauthorized_client", "error_description": "AADSTS700016"}
    )
    job = syncs.run(org_a, "full")
    assert (job.state, job.attempts) == (JobState.failed, 1)
    assert job.error == "Entra issued no app token for the tenant (unauthorized_client)"


def test_graph_refusing_access_to_users_fails_at_once_naming_the_permission(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    graph.fail(403, "Authorization_RequestDenied")
    job = syncs.run(org_a, "full")
    assert (job.state, job.attempts) == (JobState.failed, 1)
    assert job.error is not None
    assert "User.Read.All" in job.error and "Authorization_RequestDenied" in job.error


def test_an_unreachable_graph_is_retried(syncs: SyncHarness, graph: FakeGraph, org_a: Org):
    # The syncs fixture puts the usual fakes back afterwards.
    syncs.runtime.graph = syncs.fakes.access(base_url="https://127.0.0.1:9", max_retries=1)
    job = syncs.run(org_a, "full")
    assert job.state is JobState.failed
    assert job.attempts == 5
    assert (
        job.error == "Microsoft Graph kept failing (unreachable (ConnectionError)) after 1 retries"
    )


def test_a_cancelled_sync_stops_after_its_current_page_and_keeps_what_it_committed(
    syncs: SyncHarness, graph: FakeGraph, org_a: Org
):
    from facito_admin.db.session import unit_of_work
    from facito_admin.jobs.service import cancel_job
    from tests.factories.audit import admin_ctx

    graph.add_range(0, 200)
    graph.page_size = 10
    graph.page_delay = 0.1
    syncs.jobs.start()
    job_id = syncs.start(org_a, "full")
    syncs.jobs.wait_for(org_a.id, job_id, lambda j: (j.checkpoint or {}).get("pages", 0) >= 2)
    with unit_of_work(syncs.runtime, organisation_id=org_a.id) as session:
        cancel_job(session, admin_ctx(org_a.id), job_id=job_id)
    job = syncs.jobs.wait_for(org_a.id, job_id, lambda j: j.finished_at is not None)
    assert job.state is JobState.cancelled
    assert job.checkpoint is not None
    assert len(syncs.accounts(org_a)) == job.checkpoint["entries"] < 200
    assert syncs.events(org_a, "org:directory-sync:run") == []
