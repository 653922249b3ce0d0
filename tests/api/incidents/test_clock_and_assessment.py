"""An affected organisation sees the time left on its own 72-hour clock, which starts when
Facito told it; recording its assessment (authority notified, or why not) stops the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.incidents import record_incident

Auth = Callable[..., dict[str, str]]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _url(org: Org, incident_id: object, tail: str = "") -> str:
    return f"/v1/organisations/{org.id}/incidents/{incident_id}{tail}"


def test_the_clock_runs_72_hours_from_the_notice_and_stops_at_zero(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    incident_id = record_incident(runtime, [org_a.id])
    seen = client.get(_url(org_a, incident_id), headers=auth(org_a, "Organisation.Reader"))
    assert seen.status_code == 200
    body = seen.get_json()
    notified, deadline = _instant(body["notified_at"]), _instant(body["authority_deadline"])
    assert deadline - notified == timedelta(hours=72)
    assert 72 * 3600 - 60 <= body["seconds_left"] <= 72 * 3600
    assert (body["deadline_passed"], body["clock_stopped"], body["assessment"]) == (
        False,
        False,
        None,
    )

    with time_machine.travel(deadline + timedelta(hours=1), tick=False):
        late = client.get(_url(org_a, incident_id), headers=auth(org_a, "Organisation.Reader"))
    assert (late.get_json()["seconds_left"], late.get_json()["deadline_passed"]) == (0, True)


def test_recording_the_assessment_stops_the_clock_once_and_is_audited(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    incident_id = record_incident(runtime, [org_a.id])
    assessed = client.post(
        _url(org_a, incident_id, "/assessment"),
        json={
            "decision": "authority_notified",
            "reason": "Contact details of 40 employees; told the Autoriteit Persoonsgegevens.",
            "authority_reference": "AP-2026-0042",
        },
        headers=auth(org_a, "Privacy.Officer"),
    )
    assert assessed.status_code == 200, assessed.get_json()
    body = assessed.get_json()
    assert (body["clock_stopped"], body["seconds_left"], body["deadline_passed"]) == (
        True,
        None,
        False,
    )
    assert body["assessment"]["decision"] == "authority_notified"
    assert body["assessment"]["authority_reference"] == "AP-2026-0042"

    again = client.post(
        _url(org_a, incident_id, "/assessment"),
        json={"decision": "not_notified", "reason": "Changed our mind."},
        headers=auth(org_a, "Organisation.Admin"),
    )
    assert again.status_code == 409
    assert again.get_json()["code"] == "incident-already-assessed"
    with runtime.session(organisation_id=org_a.id) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions[-2:] == ["org:incident:notify", "org:incident:assess"]


def test_an_assessment_after_the_deadline_keeps_that_it_passed(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    incident_id = record_incident(runtime, [org_a.id])
    with time_machine.travel(datetime.now().astimezone() + timedelta(hours=80), tick=False):
        late = client.post(
            _url(org_a, incident_id, "/assessment"),
            json={"decision": "not_notified", "reason": "Only encrypted data; no risk."},
            headers=auth(org_a, "Organisation.Admin"),
        )
    assert late.status_code == 200, late.get_json()
    assert (late.get_json()["deadline_passed"], late.get_json()["clock_stopped"]) == (True, True)


def test_readers_may_not_assess_and_another_organisation_cannot_reach_the_notice(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    incident_id = record_incident(runtime, [org_a.id])
    body = {"decision": "not_notified", "reason": "No risk."}
    reader = client.post(
        _url(org_a, incident_id, "/assessment"),
        json=body,
        headers=auth(org_a, "Organisation.Reader"),
    )
    assert reader.status_code == 403
    # Organisation B's token on A's notice, and on its own path with A's incident: 404.
    for path in (_url(org_a, incident_id), _url(org_b, incident_id)):
        response = client.get(path, headers=auth(org_b, "Organisation.Admin"))
        assert response.status_code == 404, path
    assessing = client.post(
        _url(org_b, incident_id, "/assessment"),
        json=body,
        headers=auth(org_b, "Organisation.Admin"),
    )
    assert assessing.status_code == 404
