"""The hourly deadline scan: an organisation's systems hear `dsr.due_soon` and `dsr.overdue`
once each per request, the DPO queue records them on the request and Facito's chain; a
request awaiting the subject is skipped, and no organisation hears of another's requests."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.jobs.registry import periodic_jobs
from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import FacitoRequestAction, RequestAction
from facito_admin.subject_requests.deadline_scan import SCAN_NAME, give_deadline_notices
from tests.api.organisations.helpers import audit_trail
from tests.api.policies.helpers import facito_actions
from tests.api.subject_requests.helpers import (
    ADMIN,
    DPO,
    OWN,
    Auth,
    dpo_url,
    employee,
    file_for,
    file_own,
    queue_url,
    record_personal,
)
from tests.conftest import Org
from tests.factories.runtime import swapped
from tests.factories.webhooks import deliveries, make_endpoint

EVENTS = ["dsr.due_soon", "dsr.overdue"]


def _told(runtime: Runtime, org: Org) -> list[str]:
    return [d.event_type for d in deliveries(runtime, org.id)]


def _actions(runtime: Runtime, org: Org) -> list[str]:
    notices = (RequestAction.DueSoon, RequestAction.Overdue)
    return [e["action"] for e in audit_trail(runtime, org.id) if e["action"] in notices]


def _scan_at(runtime: Runtime, at: datetime) -> int:
    with time_machine.travel(at, tick=False):
        return give_deadline_notices(runtime)


def _timeline(client: FlaskClient, url: str, headers: dict[str, str]) -> list[str]:
    return [entry["event"] for entry in client.get(url, headers=headers).get_json()["timeline"]]


def test_the_scan_runs_every_hour():
    [scan] = [job for job in periodic_jobs() if job.name == SCAN_NAME]
    assert (scan.schedule["minute"], scan.schedule["hour"]) == ("23", "*")


def test_a_request_is_told_due_soon_once_then_overdue_once_and_another_organisation_nothing(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    for org in (org_a, org_b):
        make_endpoint(runtime, org.id, f"https://hooks.example/{org.slug}", event_types=EVENTS)
    _, me = employee(runtime, org_a, auth)
    mine = file_own(client, me)
    filed = datetime.fromisoformat(mine["received_at"])
    with time_machine.travel(filed + timedelta(days=10), tick=False):
        _, theirs = employee(runtime, org_b, auth)
        file_own(client, theirs)

    # Due in 8 days: not yet; in 6: due soon (7 days by default), once.
    assert _scan_at(runtime, filed + timedelta(days=22)) == 0
    assert _scan_at(runtime, filed + timedelta(days=24)) == 1
    assert _scan_at(runtime, filed + timedelta(days=24, hours=1)) == 0
    assert (_told(runtime, org_a), _told(runtime, org_b)) == (["dsr.due_soon"], [])
    # Past due: overdue, once.
    assert _scan_at(runtime, filed + timedelta(days=30, seconds=1)) == 1
    assert _scan_at(runtime, filed + timedelta(days=30, hours=1)) == 0
    assert _told(runtime, org_a) == EVENTS
    assert _actions(runtime, org_a) == [RequestAction.DueSoon, RequestAction.Overdue]

    # Organisation B heard nothing of A's request, and nothing of its own yet (due later).
    assert (_told(runtime, org_b), _actions(runtime, org_b)) == ([], [])
    delivered = deliveries(runtime, org_a.id)[-1].payload["data"]
    assert delivered["request_id"] == mine["id"]
    assert datetime.fromisoformat(delivered["due_at"]) == datetime.fromisoformat(mine["due_at"])
    timeline = _timeline(client, f"{OWN}/{mine['id']}", me)
    assert (timeline.count("due_soon"), timeline.count("overdue")) == (1, 1)


def test_a_request_awaiting_the_subject_is_skipped(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=EVENTS)
    account, _ = employee(runtime, org_a, auth)
    admin = auth(org_a, ADMIN)
    request = file_for(client, org_a, admin, account).get_json()
    url = queue_url(org_a, f"/{request['id']}")
    paused = client.post(f"{url}/await-subject", json={"message": "which data?"}, headers=admin)
    assert paused.status_code == 200, paused.get_json()

    assert _scan_at(runtime, utcnow() + timedelta(days=45)) == 0
    assert _told(runtime, org_a) == []
    assert _actions(runtime, org_a) == []


def test_a_warning_before_an_extension_is_given_again_before_the_new_due_time(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=EVENTS)
    account, _ = employee(runtime, org_a, auth)
    request = file_for(client, org_a, auth(org_a, ADMIN), account).get_json()
    filed = datetime.fromisoformat(request["received_at"])
    assert _scan_at(runtime, filed + timedelta(days=24)) == 1
    with time_machine.travel(filed + timedelta(days=25), tick=False):
        extended = client.post(
            queue_url(org_a, f"/{request['id']}/extend"),
            json={"days": 20, "reason": "the backups are in cold storage"},
            headers=auth(org_a, ADMIN),
        )
    assert extended.status_code == 200, extended.get_json()

    # Due at day 50 now: the first warning was about day 30; a second one comes at day 43.
    assert _scan_at(runtime, filed + timedelta(days=31)) == 0
    assert _scan_at(runtime, filed + timedelta(days=44)) == 1
    assert _scan_at(runtime, filed + timedelta(days=45)) == 0
    assert _scan_at(runtime, filed + timedelta(days=50, seconds=1)) == 1
    assert _told(runtime, org_a) == ["dsr.due_soon", "dsr.due_soon", "dsr.overdue"]


def test_the_days_before_are_a_setting(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=EVENTS)
    _, me = employee(runtime, org_a, auth)
    filed = datetime.fromisoformat(file_own(client, me)["received_at"])
    settings = runtime.settings.model_copy(update={"dsr_due_soon_days": 2})
    with swapped(runtime, settings=settings):
        assert _scan_at(runtime, filed + timedelta(days=27)) == 0
        assert _scan_at(runtime, filed + timedelta(days=28, hours=1)) == 1


def test_the_dpo_queue_records_its_notices_on_the_request_and_facitos_chain(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example/a", event_types=EVENTS)
    request = record_personal(client, auth(None, DPO), channel="in_person").get_json()
    filed = datetime.fromisoformat(request["received_at"])
    assert _scan_at(runtime, filed + timedelta(days=24)) == 1
    assert _scan_at(runtime, filed + timedelta(days=25)) == 0
    assert _scan_at(runtime, filed + timedelta(days=31)) == 1
    assert _scan_at(runtime, filed + timedelta(days=32)) == 0

    assert facito_actions(runtime) == [
        FacitoRequestAction.File,
        FacitoRequestAction.DueSoon,
        FacitoRequestAction.Overdue,
    ]
    timeline = _timeline(client, dpo_url(f"/{request['id']}"), auth(None, DPO))
    assert timeline[-2:] == ["due_soon", "overdue"]
    # No organisation hears of the DPO's requests.
    assert _told(runtime, org_a) == []
