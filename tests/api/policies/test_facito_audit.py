"""Facito's own audit log holds the DPO's statement actions; staff read and verify it,
organisations cannot."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from facito_admin.audit.models import FacitoAuditEvent
from tests.api.policies.helpers import DPO, OPERATOR, create_draft, publish
from tests.conftest import Org

URL = "/v1/facito/audit-events"


def test_statement_actions_are_listed_newest_first_with_a_valid_chain(now, client, runtime, auth):
    dpo = auth(None, DPO, name="Dana DPO")
    draft = create_draft(client, dpo, label="audited", effective_from=now + timedelta(hours=1))
    assert publish(client, draft["id"], dpo).status_code == 200
    response = client.get(URL, headers=auth(None, OPERATOR))
    assert response.status_code == 200
    events = response.get_json()["items"]
    assert [e["action"] for e in events] == ["facito:statement:publish", "facito:statement:create"]
    assert all(e["target_id"] == draft["id"] for e in events)
    assert events[0]["seq"] == 2
    assert "organisation_id" not in events[0]
    only = client.get(f"{URL}?action=facito:statement:create", headers=dpo).get_json()["items"]
    assert [e["seq"] for e in only] == [1]
    report = client.get(f"{URL}/verify", headers=dpo).get_json()
    assert report == {"valid": True, "checked": 2, "first_broken": None}


def test_an_edited_event_breaks_facito_chain(now, client, runtime, auth):
    dpo = auth(None, DPO)
    create_draft(client, dpo, label="tampered", effective_from=now)
    with runtime.session(write=True) as session:
        session.execute(update(FacitoAuditEvent).values(actor_display="someone else"))
        session.commit()
    report = client.get(f"{URL}/verify", headers=dpo).get_json()
    assert report["valid"] is False
    assert report["first_broken"]["reason"] == "content-altered"


def test_organisations_cannot_read_facito_audit_log(client, org_a: Org, auth):
    admin = auth(org_a, "Organisation.Admin")
    assert client.get(URL, headers=admin).status_code == 403
    assert client.get(f"{URL}/verify", headers=admin).status_code == 403
