"""The retention run, as a worker runs it: what expired goes unless a legal hold keeps it, each
run certifies what it removed, and a killed run resumes without counting anything twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.jobs import JobContext
from facito_admin.jobs.models import JobState
from facito_admin.retention.actions import RetentionAction
from facito_admin.retention.runs import preview_retention
from facito_admin.runtime import Runtime
from facito_admin.webhooks.models import WebhookDelivery
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.retention import (
    add_record,
    add_records,
    certificates,
    enqueue,
    place_hold,
    read_job,
    record_ids,
    record_row,
    release_hold,
    run_now,
)

ERRORS = "usage.error_reports"  # 90 days by default, not sensitive


def _days_ago(days: float):
    return utcnow() - timedelta(days=days)


def test_a_held_record_survives_the_run_that_purges_its_twin_and_goes_once_released(
    runtime: Runtime, org_a: Org, org_b: Org
):
    held_account = make_account(runtime, org_a.id, "held").id
    free_account = make_account(runtime, org_a.id, "free").id
    held = add_record(runtime, org_a.id, held_account, category=ERRORS, occurred_at=_days_ago(100))
    twin = add_record(runtime, org_a.id, free_account, category=ERRORS, occurred_at=_days_ago(100))
    young = add_record(runtime, org_a.id, free_account, category=ERRORS, occurred_at=_days_ago(10))
    other = add_record(
        runtime,
        org_b.id,
        make_account(runtime, org_b.id, "b").id,
        category=ERRORS,
        occurred_at=_days_ago(100),
    )
    hold_id = place_hold(runtime, org_a.id, account_id=held_account, category=ERRORS)

    first = run_now(runtime, org_a.id)
    assert first.state is JobState.succeeded, first.error
    assert record_ids(runtime, org_a.id) == {held, young}
    assert twin not in record_ids(runtime, org_a.id)
    assert record_ids(runtime, org_b.id) == {other}
    assert first.result["removed"] == {ERRORS: 1}
    assert first.result["kept_by_holds"] == 1

    release_hold(runtime, org_a.id, hold_id)
    second = run_now(runtime, org_a.id)
    assert second.state is JobState.succeeded, second.error
    assert record_ids(runtime, org_a.id) == {young}

    one, two = certificates(runtime, org_a.id)
    assert (one.kind.value, one.job_id, one.removed_total) == ("retention", first.id, 1)
    assert one.removed == {"data_records": {ERRORS: 1}}
    assert one.kept_by_holds == {"total": 1, "categories": {ERRORS: 1}, "holds": {str(hold_id): 1}}
    assert one.statement_version_label is not None
    assert one.basis["categories"][ERRORS]["days"] == 90
    assert (two.job_id, two.removed_total, two.kept_by_holds["total"]) == (second.id, 1, 0)
    assert certificates(runtime, org_b.id) == []
    with runtime.session(organisation_id=org_a.id) as session:
        certified = session.scalars(
            select(AuditEvent.target_id).where(AuditEvent.action == RetentionAction.DeletionCertify)
        ).all()
        assert sorted(certified) == sorted(str(c.id) for c in (one, two))


def test_a_run_with_nothing_due_writes_no_certificate(runtime: Runtime, org_a: Org):
    account = make_account(runtime, org_a.id).id
    add_record(runtime, org_a.id, account, category=ERRORS, occurred_at=_days_ago(1))
    job = run_now(runtime, org_a.id)
    assert job.result["removed_total"] == 0
    assert job.result["deletion_certificate_id"] is None
    assert certificates(runtime, org_a.id) == []


def test_sensitive_records_go_after_the_sensitive_maximum(runtime: Runtime, org_a: Org):
    account = make_account(runtime, org_a.id).id
    # identity.contact keeps 730 days; sensitive data at most 365 (the 2019 statement).
    flagged = add_record(
        runtime,
        org_a.id,
        account,
        category="identity.contact",
        occurred_at=_days_ago(400),
        sensitive=True,
    )
    plain = add_record(
        runtime, org_a.id, account, category="identity.contact", occurred_at=_days_ago(400)
    )
    # commerce.payment is a sensitive category: 2555 days by default, capped at 365.
    payment = add_record(
        runtime, org_a.id, account, category="commerce.payment", occurred_at=_days_ago(400)
    )
    job = run_now(runtime, org_a.id)
    assert job.result["removed"] == {"commerce.payment": 1, "identity.contact": 1}
    assert record_ids(runtime, org_a.id) == {plain}
    assert flagged not in record_ids(runtime, org_a.id)
    assert payment not in record_ids(runtime, org_a.id)


def test_soft_deleted_records_go_after_the_deleted_items_days(runtime: Runtime, org_a: Org):
    account = make_account(runtime, org_a.id).id
    long_gone = add_record(
        runtime,
        org_a.id,
        account,
        category="identity.contact",
        occurred_at=_days_ago(60),
        deleted_at=_days_ago(31),
    )
    recently = add_record(
        runtime,
        org_a.id,
        account,
        category="identity.contact",
        occurred_at=_days_ago(60),
        deleted_at=_days_ago(29),
    )
    run_now(runtime, org_a.id)
    assert record_ids(runtime, org_a.id) == {recently}
    assert long_gone not in record_ids(runtime, org_a.id)


def test_a_contract_that_shortens_a_categorys_retention_purges_sooner(
    client, runtime: Runtime, org_a: Org, operator
):
    from tests.api.contracts.helpers import create_contract

    account = make_account(runtime, org_a.id).id
    month_old = add_record(
        runtime, org_a.id, account, category="usage.device", occurred_at=_days_ago(40)
    )
    run_now(runtime, org_a.id)
    assert record_ids(runtime, org_a.id) == {month_old}

    contract, _ = create_contract(
        client, org_a, operator, overrides={"retention.days.usage.device": 30}
    )
    job = run_now(runtime, org_a.id)
    assert record_ids(runtime, org_a.id) == set()
    [certificate] = certificates(runtime, org_a.id)
    assert certificate.job_id == job.id
    assert certificate.contract_reference == contract["reference"]
    applied = certificate.basis["categories"]["usage.device"]
    assert (applied["days"], applied["source"]) == (30, "contract")


def test_the_preview_counts_what_the_run_then_removes_and_keeps(runtime: Runtime, org_a: Org):
    accounts = [make_account(runtime, org_a.id, n).id for n in range(3)]
    rows = [
        record_row(org_a.id, accounts[n % 3], category=category, occurred_at=_days_ago(age))
        for n, (category, age) in enumerate(
            [
                (ERRORS, 100),
                (ERRORS, 95),
                (ERRORS, 10),
                ("usage.device", 400),
                ("usage.device", 400),
                ("identity.contact", 800),
                ("content.files", 370),
            ]
            * 3
        )
    ]
    add_records(runtime, org_a.id, rows)
    account_hold = place_hold(runtime, org_a.id, account_id=accounts[1])
    category_hold = place_hold(runtime, org_a.id, account_id=accounts[2], category="usage.device")
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        preview = preview_retention(session, until=utcnow())
    job = run_now(runtime, org_a.id)
    [certificate] = certificates(runtime, org_a.id)
    assert preview["removable"] == job.result["removed"] == certificate.removed["data_records"]
    assert preview["removable_total"] == certificate.removed_total == job.progress_done
    assert preview["kept_by_holds"] == certificate.kept_by_holds
    assert set(certificate.kept_by_holds["holds"]) == {str(account_hold), str(category_hold)}

    # Later, more is due: the preview of a future instant counts it.
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        later = preview_retention(session, until=utcnow() + timedelta(days=100))
    # The three young error reports, but the one of the held account.
    assert later["removable"][ERRORS] == 2


def test_an_organisation_wide_hold_keeps_everything(runtime: Runtime, org_a: Org):
    account = make_account(runtime, org_a.id).id
    record = add_record(runtime, org_a.id, account, category=ERRORS, occurred_at=_days_ago(100))
    hold_id = place_hold(runtime, org_a.id)
    job = run_now(runtime, org_a.id)
    assert record_ids(runtime, org_a.id) == {record}
    assert job.result["kept_by_holds"] == 1
    release_hold(runtime, org_a.id, hold_id)
    run_now(runtime, org_a.id)
    assert record_ids(runtime, org_a.id) == set()


class WorkerKilled(Exception):
    """Stands for a worker that died after its first committed step."""


def test_a_killed_run_resumes_from_its_last_step_and_counts_nothing_twice(
    runtime: Runtime, org_a: Org, monkeypatch: pytest.MonkeyPatch
):
    account = make_account(runtime, org_a.id).id
    rows = [
        record_row(org_a.id, account, category=ERRORS, occurred_at=_days_ago(100)) for _ in range(7)
    ]
    rows += [
        record_row(org_a.id, account, category="usage.device", occurred_at=_days_ago(400))
        for _ in range(3)
    ]
    add_records(runtime, org_a.id, rows)
    job_id = enqueue(runtime, org_a.id, batch_size=2)

    original = JobContext.commit_step

    def die_after_first_step(self: JobContext, **kwargs):
        original(self, **kwargs)
        if self.attempt == 1:
            raise WorkerKilled

    monkeypatch.setattr(JobContext, "commit_step", die_after_first_step)
    from facito_admin.jobs.queue import queue_of
    from facito_admin.jobs.runner import run_job

    run_job(queue_of(runtime), org_a.id, job_id)
    crashed = read_job(runtime, org_a.id, job_id)
    assert crashed.state is JobState.queued
    assert crashed.progress_done == 2
    assert crashed.progress_total == 10
    assert len(record_ids(runtime, org_a.id)) == 8

    run_job(queue_of(runtime), org_a.id, job_id)
    finished = read_job(runtime, org_a.id, job_id)
    assert finished.state is JobState.succeeded, finished.error
    assert finished.attempts == 2
    assert finished.result["removed"] == {ERRORS: 7, "usage.device": 3}
    assert finished.progress_done == 10
    [certificate] = certificates(runtime, org_a.id)
    assert certificate.removed_total == 10
    assert record_ids(runtime, org_a.id) == set()


def test_a_run_that_removed_data_notifies_retention_purged(runtime: Runtime, org_a: Org):
    from tests.factories.webhooks import make_endpoint

    make_endpoint(runtime, org_a.id, "https://hooks.example/x", event_types=["retention.purged"])
    account = make_account(runtime, org_a.id).id
    add_record(runtime, org_a.id, account, category=ERRORS, occurred_at=_days_ago(100))
    job = run_now(runtime, org_a.id)
    with runtime.session(organisation_id=org_a.id) as session:
        [delivery] = session.scalars(select(WebhookDelivery)).all()
    assert delivery.event_type == "retention.purged"
    assert (
        delivery.payload["data"]["deletion_certificate_id"]
        == (job.result["deletion_certificate_id"])
    )
    assert uuid.UUID(delivery.payload["data"]["job_id"]) == job.id
