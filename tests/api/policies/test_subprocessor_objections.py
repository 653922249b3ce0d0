"""Objections to new subprocessors and regions (GDPR art. 28(2)): a version that adds one opens
a window on each organisation's notice until it takes effect; the organisation objects once,
inside it; Facito's operators and DPO read the objections; other organisations see nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.policies.actions import PolicyAction
from facito_admin.policies.parameters import STATEMENT_2019_VALUES
from facito_admin.policies.regions import REGIONS
from facito_admin.runtime import Runtime
from tests.api.policies.helpers import DPO, OPERATOR, URL, create_draft, publish
from tests.api.policies.test_notices import notify
from tests.conftest import Org
from tests.factories.webhooks import deliveries, make_endpoint

ADMIN = "Organisation.Admin"
TRANSIP_ONLY = {
    **STATEMENT_2019_VALUES,
    "subprocessors.allowed": ["transip"],
    "residency.allowed_regions": ["transip-nl-amsterdam", "transip-nl-delft"],
}
AZURE_REGIONS = sorted(code for code, region in REGIONS.items() if region.subprocessor == "azure")


def _publish(client, auth, *, label: str, effective_from: datetime, parameters) -> str:
    dpo = auth(None, DPO)
    draft = create_draft(
        client,
        dpo,
        label=label,
        effective_from=effective_from,
        material=True,
        parameters=parameters,
    )
    assert publish(client, draft["id"], dpo).status_code == 200
    return str(draft["id"])


def _narrowing_then_widening(client, auth, now: datetime) -> tuple[str, str]:
    """A version that drops Azure (adds nothing), then one that brings it back (adds it)."""
    narrowing = _publish(
        client,
        auth,
        label="2026-transip",
        effective_from=now + timedelta(days=30),
        parameters=TRANSIP_ONLY,
    )
    widening = _publish(
        client,
        auth,
        label="2026-azure",
        effective_from=now + timedelta(days=60),
        parameters=dict(STATEMENT_2019_VALUES),
    )
    return narrowing, widening


def _notice_of(client, auth, org: Org, statement_id: str) -> dict[str, Any]:
    page = client.get(f"/v1/organisations/{org.id}/notices", headers=auth(org, ADMIN)).get_json()
    [notice] = [n for n in page["items"] if n["statement_id"] == statement_id]
    return dict(notice)


def _objection_url(org: Org, notice_id: str) -> str:
    return f"/v1/organisations/{org.id}/notices/{notice_id}/objection"


def _actions(runtime: Runtime, org: Org) -> list[str]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_notice_of_a_version_adding_a_subprocessor_carries_a_window_until_it_takes_effect(
    now, client, runtime, org_a: Org, auth
):
    narrowing, widening = _narrowing_then_widening(client, auth, now)
    notify(runtime, org_a, narrowing)
    notify(runtime, org_a, widening)
    notice = _notice_of(client, auth, org_a, widening)
    assert notice["added_subprocessors"] == ["azure"]
    assert notice["added_regions"] == AZURE_REGIONS
    assert notice["objection_until"].startswith((now + timedelta(days=60)).date().isoformat())
    assert notice["objected_at"] is None


def test_a_notice_of_a_version_that_adds_nothing_has_no_window(
    now, client, runtime, org_a: Org, auth
):
    narrowing, _ = _narrowing_then_widening(client, auth, now)
    notify(runtime, org_a, narrowing)
    notice = _notice_of(client, auth, org_a, narrowing)
    assert notice["added_subprocessors"] == []
    assert notice["added_regions"] == []
    assert notice["objection_until"] is None
    refused = client.post(
        _objection_url(org_a, notice["id"]), json={"reason": "no"}, headers=auth(org_a, ADMIN)
    )
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "no-objection-window"


def test_an_organisation_objects_inside_the_window_once_and_it_is_on_its_chain(
    now, client, runtime, org_a: Org, auth
):
    _, widening = _narrowing_then_widening(client, auth, now)
    notify(runtime, org_a, widening)
    notice = _notice_of(client, auth, org_a, widening)
    url = _objection_url(org_a, notice["id"])
    body = {"reason": "Our contract keeps data in the Netherlands with TransIP."}
    reader = client.post(url, json=body, headers=auth(org_a, "Organisation.Reader"))
    assert reader.status_code == 403
    response = client.post(url, json=body, headers=auth(org_a, ADMIN, name="Ann Admin"))
    assert response.status_code == 200, response.get_json()
    objected = response.get_json()
    assert objected["objected_at"] is not None
    assert objected["objected_by"] == "Ann Admin"
    assert objected["objection_reason"] == body["reason"]
    # A retried request answers as the first did; another objection is refused.
    again = client.post(url, json=body, headers=auth(org_a, "Privacy.Officer"))
    assert again.status_code == 200
    assert again.get_json()["objected_at"] == objected["objected_at"]
    other = client.post(url, json={"reason": "Changed our mind"}, headers=auth(org_a, ADMIN))
    assert other.status_code == 409
    assert other.get_json()["code"] == "objection-already-recorded"
    assert _actions(runtime, org_a).count(PolicyAction.NoticeObject) == 1
    shown = client.get(
        f"/v1/organisations/{org_a.id}/notices/{notice['id']}", headers=auth(org_a, ADMIN)
    )
    assert shown.get_json()["objection_reason"] == body["reason"]


def test_a_privacy_officer_may_object_and_a_blank_reason_is_refused(
    now, client, runtime, org_a: Org, auth
):
    _, widening = _narrowing_then_widening(client, auth, now)
    notify(runtime, org_a, widening)
    url = _objection_url(org_a, _notice_of(client, auth, org_a, widening)["id"])
    officer = auth(org_a, "Privacy.Officer")
    assert client.post(url, json={"reason": "  "}, headers=officer).status_code == 422
    assert client.post(url, json={}, headers=officer).status_code == 422
    assert client.post(url, json={"reason": "No Azure."}, headers=officer).status_code == 200


def test_an_objection_after_the_window_closed_is_refused(now, client, runtime, org_a: Org, auth):
    _, widening = _narrowing_then_widening(client, auth, now)
    notify(runtime, org_a, widening)
    url = _objection_url(org_a, _notice_of(client, auth, org_a, widening)["id"])
    with time_machine.travel(now + timedelta(days=60), tick=False):
        refused = client.post(url, json={"reason": "Too late?"}, headers=auth(org_a, ADMIN))
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["code"] == "objection-window-closed"
    assert body["objection_until"].startswith((now + timedelta(days=60)).date().isoformat())


def test_another_organisation_can_neither_see_nor_object_on_the_notice(
    now, client, runtime, org_a: Org, org_b: Org, auth
):
    _, widening = _narrowing_then_widening(client, auth, now)
    notify(runtime, org_a, widening)
    notice = _notice_of(client, auth, org_a, widening)
    b_admin = auth(org_b, ADMIN)
    body = {"reason": "Not ours to object to."}
    assert (
        client.post(_objection_url(org_a, notice["id"]), json=body, headers=b_admin).status_code
        == 404
    )
    assert (
        client.post(_objection_url(org_b, notice["id"]), json=body, headers=b_admin).status_code
        == 404
    )
    assert _notice_of(client, auth, org_a, widening)["objected_at"] is None


def test_operators_and_the_dpo_list_the_objections_of_every_organisation(
    now, client, runtime, org_a: Org, org_b: Org, auth
):
    _, widening = _narrowing_then_widening(client, auth, now)
    for org in (org_a, org_b):
        notify(runtime, org, widening)
        notice = _notice_of(client, auth, org, widening)
        response = client.post(
            _objection_url(org, notice["id"]),
            json={"reason": f"{org.slug} keeps its data at TransIP."},
            headers=auth(org, ADMIN),
        )
        assert response.status_code == 200
    url = f"{URL}/{widening}/objections"
    for role in (OPERATOR, DPO):
        first = client.get(f"{url}?limit=1", headers=auth(None, role))
        assert first.status_code == 200, first.get_json()
        page = first.get_json()
        assert page["next_cursor"]
        second = client.get(f"{url}?limit=1&cursor={page['next_cursor']}", headers=auth(None, role))
        items = page["items"] + second.get_json()["items"]
        assert second.get_json()["next_cursor"] is None
        assert sorted(item["organisation_slug"] for item in items) == ["org-a", "org-b"]
        assert all(item["added_subprocessors"] == ["azure"] for item in items)
        assert {item["reason"] for item in items} == {
            "org-a keeps its data at TransIP.",
            "org-b keeps its data at TransIP.",
        }
    assert client.get(url, headers=auth(org_a, ADMIN)).status_code == 403
    missing = client.get(f"{URL}/{org_a.id}/objections", headers=auth(None, OPERATOR))
    assert missing.status_code == 404


def test_the_window_and_the_objection_reach_the_organisations_webhook_endpoints_only(
    now, client, runtime, org_a: Org, org_b: Org, auth
):
    events = ["policy.statement_published", "policy.objection_recorded"]
    make_endpoint(runtime, org_a.id, "https://hooks.example.test/a", event_types=events)
    make_endpoint(runtime, org_b.id, "https://hooks.example.test/b", event_types=events)
    _, widening = _narrowing_then_widening(client, auth, now)
    notify(runtime, org_a, widening)
    notice = _notice_of(client, auth, org_a, widening)
    body = {"reason": "TransIP only, please."}
    assert (
        client.post(
            _objection_url(org_a, notice["id"]), json=body, headers=auth(org_a, ADMIN)
        ).status_code
        == 200
    )
    published, objected = deliveries(runtime, org_a.id)
    assert published.event_type == "policy.statement_published"
    assert published.payload["data"]["added_subprocessors"] == ["azure"]
    assert published.payload["data"]["objection_until"] == (now + timedelta(days=60)).isoformat()
    assert objected.event_type == "policy.objection_recorded"
    assert objected.payload["data"]["notice_id"] == notice["id"]
    assert objected.payload["data"]["reason"] == body["reason"]
    assert deliveries(runtime, org_b.id) == []
