"""After the return period nothing of the organisation remains but what legal holds keep, and
Facito's own chain certifies it; the other organisation is untouched."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from facito_admin.audit.models import FacitoAuditEvent
from facito_admin.jobs import enqueue_once_per_organisation
from facito_admin.offboarding import deletion
from facito_admin.offboarding.actions import OffboardingAction
from facito_admin.retention.runs import RUN_KIND, SCAN_NAME
from facito_admin.runtime import Runtime
from facito_admin.support_access.actions import SupportAccessAction
from tests.api.offboarding.helpers import ADMIN, end_return_period, offboard, run_export
from tests.conftest import Org
from tests.factories.accounts import search_index_differences
from tests.factories.offboarding import rows_left, seed_every_kind
from tests.factories.retention import place_hold, release_hold

CERTIFICATES = "/v1/offboarding-certificates"


def _facito_events(runtime: Runtime) -> list[FacitoAuditEvent]:
    with runtime.session() as session:
        return list(
            session.scalars(
                select(FacitoAuditEvent)
                .where(FacitoAuditEvent.action == OffboardingAction.DataDelete)
                .order_by(FacitoAuditEvent.seq)
            )
        )


def _offboarded_past_return(
    client: FlaskClient, runtime: Runtime, org: Org, auth: Any, operator: dict[str, str]
) -> None:
    run_export(client, runtime, org, auth(org, ADMIN))
    offboard(client, org, operator)
    end_return_period(runtime, org)


def test_after_the_return_period_only_held_data_and_the_certificate_remain(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Any, operator
):
    a = seed_every_kind(runtime, org_a)
    seed_every_kind(runtime, org_b)
    worker = a.accounts["worker"]
    hold_id = place_hold(runtime, org_a.id, account_id=worker)
    _offboarded_past_return(client, runtime, org_a, auth, operator)
    before_a, before_b = rows_left(runtime, org_a.id), rows_left(runtime, org_b.id)
    # Not yet due for B (active), nor for A before its return period ended: nothing happens.
    assert deletion.organisations_due(runtime, now=deletion.utcnow()) == [org_a.id]

    assert deletion.delete_due_organisations(runtime) == 1

    # The worker (held) with their four records, the hold itself and the head of the audit
    # chain (a release is recorded there): nothing else of A.
    kept = {"accounts": 1, "data_records": 4, "legal_holds": 1, "audit_chain_heads": 1}
    assert rows_left(runtime, org_a.id) == kept
    # The account search index (migration 0018, no model) went with the accounts.
    assert not search_index_differences(runtime)
    assert rows_left(runtime, org_b.id) == before_b
    [event] = _facito_events(runtime)
    assert event.target_id == str(org_a.id)
    details = event.details
    assert details["return_period"]["days"] == 30
    assert details["kept_by_holds"]["rows"] == kept
    assert [h["legal_hold_id"] for h in details["kept_by_holds"]["holds"]] == [str(hold_id)]
    removed = details["removed"]
    assert removed["accounts"] == before_a["accounts"] - 1
    assert removed["audit_events"] == before_a["audit_events"]
    assert removed["federations"] == 1
    assert details["removed_total"] == sum(before_a.values()) - sum(kept.values())

    listed = client.get(CERTIFICATES, headers=operator).get_json()["items"]
    assert [(c["organisation_id"], c["facito_event_seq"]) for c in listed] == [
        (str(org_a.id), event.seq)
    ]
    one = client.get(
        f"{CERTIFICATES}/{listed[0]['id']}", headers=auth(None, "Facito.PrivacyOfficer")
    )
    assert one.get_json()["removed"] == removed
    organisation = client.get(f"/v1/organisations/{org_a.id}", headers=operator).get_json()
    assert (organisation["status"], organisation["data_deleted_at"] is not None) == (
        "offboarded",
        True,
    )
    assert not (runtime.settings.resolved_export_path / str(org_a.id)).exists()

    # A second run finds nothing to do.
    assert deletion.delete_due_organisations(runtime) == 0
    assert len(_facito_events(runtime)) == 1
    assert client.get(CERTIFICATES, headers=auth(org_b, ADMIN)).status_code == 403


def test_a_hold_released_later_lets_what_it_kept_go_in_a_second_pass(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Any, operator
):
    a = seed_every_kind(runtime, org_a)
    hold_id = place_hold(runtime, org_a.id, account_id=a.accounts["boss"], category="content.files")
    _offboarded_past_return(client, runtime, org_a, auth, operator)
    deletion.delete_due_organisations(runtime)
    assert rows_left(runtime, org_a.id) == {
        "accounts": 1,
        "data_records": 2,
        "legal_holds": 1,
        "audit_chain_heads": 1,
    }

    release_hold(runtime, org_a.id, hold_id)
    assert deletion.delete_due_organisations(runtime) == 1
    assert rows_left(runtime, org_a.id) == {}
    assert len(_facito_events(runtime)) == 2


def test_an_organisation_wide_hold_keeps_everything_and_says_so(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Any, operator
):
    seed_every_kind(runtime, org_a)
    place_hold(runtime, org_a.id)
    _offboarded_past_return(client, runtime, org_a, auth, operator)
    before = rows_left(runtime, org_a.id)

    assert deletion.delete_due_organisations(runtime) == 1

    assert rows_left(runtime, org_a.id) == before
    [event] = _facito_events(runtime)
    assert event.details["removed_total"] == 0
    assert event.details["kept_by_holds"]["organisation_wide"] is True
    assert event.details["kept_by_holds"]["rows"] == before


def test_a_killed_run_resumes_where_it_stopped_and_counts_nothing_twice(
    client: FlaskClient,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    auth: Any,
    operator,
    monkeypatch: pytest.MonkeyPatch,
):
    seed_every_kind(runtime, org_a)
    seed_every_kind(runtime, org_b)
    _offboarded_past_return(client, runtime, org_a, auth, operator)
    before_a, before_b = rows_left(runtime, org_a.id), rows_left(runtime, org_b.id)
    real = deletion._delete_batch
    calls = {"n": 0}

    def dies_on_the_fifth_batch(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(deletion, "_delete_batch", dies_on_the_fifth_batch)
    with pytest.raises(RuntimeError):
        deletion.delete_organisation_data(runtime, org_a.id, batch=2)
    partly = rows_left(runtime, org_a.id)
    assert partly != before_a
    assert partly
    monkeypatch.setattr(deletion, "_delete_batch", real)

    assert deletion.delete_due_organisations(runtime) == 1

    assert rows_left(runtime, org_a.id) == {}
    assert rows_left(runtime, org_b.id) == before_b
    [event] = _facito_events(runtime)
    assert event.details["removed"] == before_a
    assert event.details["removed_total"] == sum(before_a.values())


def test_after_the_deletion_staff_calls_and_scans_write_the_organisation_nothing_new(
    client: FlaskClient,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    auth: Any,
    operator: dict[str, str],
):
    seed_every_kind(runtime, org_a)
    _offboarded_past_return(client, runtime, org_a, auth, operator)
    assert deletion.delete_due_organisations(runtime) == 1
    assert rows_left(runtime, org_a.id) == {}

    profile = client.get(f"/v1/organisations/{org_a.id}", headers=operator)
    assert profile.status_code == 200
    refused = client.get(f"/v1/organisations/{org_a.id}/accounts", headers=operator)
    assert refused.status_code == 404
    # Periodic scans leave the organisation to the offboarding deletion.
    scanned = enqueue_once_per_organisation(
        runtime, [org_a.id, org_b.id], kind=RUN_KIND, scan=SCAN_NAME
    )
    assert scanned == 1
    assert rows_left(runtime, org_a.id) == {}
    # The calls are on Facito's chain instead, with their answers.
    with runtime.session() as session:
        calls = session.scalars(
            select(FacitoAuditEvent)
            .where(FacitoAuditEvent.action == SupportAccessAction.StaffCallAfterDeletion)
            .order_by(FacitoAuditEvent.seq)
        ).all()
    assert [(c.target_id, c.details["status"]) for c in calls] == [
        (str(org_a.id), 200),
        (str(org_a.id), 404),
    ]
