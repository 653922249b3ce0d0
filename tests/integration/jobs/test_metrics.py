"""/metrics tells how background jobs fare: attempts by kind and outcome, their duration, and
how many jobs wait or run now across the deployment (never which organisation's)."""

from __future__ import annotations

import time

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Org
from tests.factories.jobs import QueueHarness

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(client: FlaskClient) -> tuple[Samples, str]:
    text = client.get("/metrics").get_data(as_text=True)
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, text


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_job_attempts_are_counted_by_kind_and_outcome(
    jobs: QueueHarness, org_a: Org, client: FlaskClient
):
    before, _ = _samples(client)
    jobs.start()
    succeeded = jobs.enqueue(org_a.id, "test.steps", {"steps": 2})
    failed = jobs.enqueue(org_a.id, "test.fail", max_attempts=2)
    jobs.wait_finished(org_a.id, succeeded)
    jobs.wait_finished(org_a.id, failed)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    # A worker counts an attempt just after it recorded the job's end: wait for them.
    deadline = time.monotonic() + 10
    while True:
        after, _ = _samples(client)
        counted = [
            grew("facito_job_attempt_duration_seconds_count", kind=kind)
            for kind in ("test.steps", "test.fail")
        ]
        if counted == [1, 2]:
            break
        assert time.monotonic() < deadline, "the failed job's attempts were never counted"
        time.sleep(0.05)

    assert grew("facito_job_attempts_total", kind="test.steps", outcome="succeeded") == 1
    assert grew("facito_job_attempts_total", kind="test.fail", outcome="retry") == 1
    assert grew("facito_job_attempts_total", kind="test.fail", outcome="failed") == 1
    assert grew("facito_job_attempt_duration_seconds_count", kind="test.steps") == 1
    assert grew("facito_job_attempt_duration_seconds_count", kind="test.fail") == 2


def test_waiting_jobs_of_every_organisation_are_counted_without_naming_one(
    jobs: QueueHarness, org_a: Org, org_b: Org, client: FlaskClient
):
    jobs.enqueue(org_a.id, "test.steps", {"steps": 1})
    jobs.enqueue(org_b.id, "test.steps", {"steps": 1})

    samples, text = _samples(client)

    assert _value(samples, "facito_jobs", kind="test.steps", state="queued") == 2
    assert _value(samples, "facito_jobs", kind="test.steps", state="running") == 0
    for org in (org_a, org_b):
        assert str(org.id) not in text
