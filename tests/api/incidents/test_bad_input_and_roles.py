"""Bad input is a clear 422; only Facito's DPO and operators record incidents, only an
organisation's people read its own notices, and only its admins and privacy officers assess."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.incidents import incident_body, record_incident

Auth = Callable[..., dict[str, str]]
DPO = "Facito.PrivacyOfficer"
PROBLEM = "application/problem+json"


def _refused_fields(response) -> set[str]:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == PROBLEM
    return {error["field"] for error in response.get_json()["errors"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"data_categories": ["no.such.category"]}, "data_categories.0"),
        ({"data_categories": []}, "data_categories"),
        ({"title": "   "}, "title"),
        ({"measures": "x" * 4001}, "measures"),
        ({"detected_at": "yesterday"}, "detected_at"),
        ({"organisation_ids": ["not-a-uuid"]}, "organisation_ids.0"),
        ({"surely_not_a_field": True}, "surely_not_a_field"),
    ],
)
def test_a_malformed_incident_is_refused_naming_the_field(
    client: FlaskClient, org_a: Org, auth: Auth, change: dict, field: str
):
    response = client.post(
        "/v1/incidents", json=incident_body([org_a.id]) | change, headers=auth(None, DPO)
    )
    assert field in _refused_fields(response)


def test_an_unknown_organisation_and_impossible_times_are_refused_and_nothing_is_recorded(
    client: FlaskClient, org_a: Org, auth: Auth
):
    headers = auth(None, DPO)
    nowhere = client.post(
        "/v1/incidents", json=incident_body([org_a.id, uuid.uuid4()]), headers=headers
    )
    assert _refused_fields(nowhere) == {"organisation_ids"}
    future = (utcnow() + timedelta(days=1)).isoformat()
    assert _refused_fields(
        client.post(
            "/v1/incidents", json=incident_body([org_a.id], detected_at=future), headers=headers
        )
    ) == {"detected_at"}
    detected = utcnow() - timedelta(days=2)
    backwards = incident_body(
        [org_a.id],
        detected_at=detected.isoformat(),
        occurred_at=(detected + timedelta(hours=1)).isoformat(),
    )
    assert _refused_fields(client.post("/v1/incidents", json=backwards, headers=headers)) == {
        "occurred_at"
    }
    assert client.get("/v1/incidents", headers=headers).get_json()["items"] == []


def test_bad_updates_and_assessments_are_refused(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    incident_id = record_incident(runtime, [org_a.id])
    headers = auth(None, DPO)
    assert "text" in _refused_fields(
        client.post(f"/v1/incidents/{incident_id}/updates", json={}, headers=headers)
    )
    assert _refused_fields(
        client.post(
            f"/v1/incidents/{incident_id}/updates",
            json={"text": "More", "organisation_ids": [str(uuid.uuid4())]},
            headers=headers,
        )
    ) == {"organisation_ids"}
    assert "text" in _refused_fields(
        client.post(f"/v1/incidents/{incident_id}/close", json={"measures": "x"}, headers=headers)
    )
    missing = client.post(
        f"/v1/incidents/{uuid.uuid4()}/updates", json={"text": "x"}, headers=headers
    )
    assert missing.status_code == 404
    assessment = f"/v1/organisations/{org_a.id}/incidents/{incident_id}/assessment"
    assert {"decision", "reason"} <= _refused_fields(
        client.post(
            assessment,
            json={"decision": "maybe", "reason": ""},
            headers=auth(org_a, "Privacy.Officer"),
        )
    )
    assert client.get("/v1/incidents?status=pending", headers=headers).status_code == 422


@pytest.mark.parametrize(
    ("role", "app_only"),
    [
        ("Organisation.Admin", False),
        ("Privacy.Officer", False),
        ("Integration.ReadWrite", True),
    ],
)
def test_an_organisations_callers_cannot_record_or_read_facitos_incidents(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, role: str, app_only: bool
):
    incident_id = record_incident(runtime, [org_a.id])
    headers = auth(org_a, role, app=app_only)
    assert (
        client.post("/v1/incidents", json=incident_body([org_a.id]), headers=headers).status_code
        == 403
    )
    assert client.get("/v1/incidents", headers=headers).status_code == 403
    assert client.get(f"/v1/incidents/{incident_id}", headers=headers).status_code == 403


def test_support_engineers_do_not_record_incidents_and_operators_and_the_dpo_do(
    client: FlaskClient, org_a: Org, auth: Auth
):
    body = incident_body([org_a.id])
    assert (
        client.post("/v1/incidents", json=body, headers=auth(None, "Support.Engineer")).status_code
        == 403
    )
    for role in ("Facito.Operator", DPO):
        assert client.post("/v1/incidents", json=body, headers=auth(None, role)).status_code == 201
    listed = client.get("/v1/incidents?status=open&limit=1", headers=auth(None, "Facito.Operator"))
    assert len(listed.get_json()["items"]) == 1
    second = client.get(
        f"/v1/incidents?status=open&limit=1&cursor={listed.get_json()['next_cursor']}",
        headers=auth(None, "Facito.Operator"),
    ).get_json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None


def test_the_integration_app_does_not_read_incident_notices_and_readers_do(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    record_incident(runtime, [org_a.id])
    path = f"/v1/organisations/{org_a.id}/incidents"
    assert (
        client.get(path, headers=auth(org_a, "Integration.ReadWrite", app=True)).status_code == 403
    )
    assert client.get(path, headers=auth(org_a)).status_code == 403  # an employee without a role
    for role in ("Organisation.Admin", "Organisation.Reader", "Privacy.Officer"):
        assert len(client.get(path, headers=auth(org_a, role)).get_json()["items"]) == 1
