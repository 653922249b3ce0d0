"""Organisation notices: each organisation lists and acknowledges its own notices of published
statement versions; another organisation sees none of them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from facito_admin.audit.models import AuditEvent
from facito_admin.db.session import unit_of_work
from facito_admin.policies.actions import PolicyAction
from facito_admin.policies.models import PrivacyStatementVersion
from facito_admin.policies.notices.service import notify_organisation_of_statement
from facito_admin.runtime import Runtime
from tests.api.policies.helpers import DPO, create_draft, publish
from tests.conftest import Org


def _published(client, auth, now, *, material: bool = True) -> str:
    dpo = auth(None, DPO)
    draft = create_draft(
        client, dpo, label="2026-next", effective_from=now + timedelta(days=30), material=material
    )
    assert publish(client, draft["id"], dpo).status_code == 200
    return str(draft["id"])


def notify(runtime: Runtime, org: Org, statement_id: str) -> None:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        statement = session.get(PrivacyStatementVersion, uuid.UUID(statement_id))
        assert statement is not None
        notify_organisation_of_statement(session, organisation_id=org.id, statement=statement)


def _notices(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/notices{suffix}"


def _actions(runtime: Runtime, org: Org) -> list[str]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_an_organisation_lists_its_notice_of_a_publication(now, client, runtime, org_a: Org, auth):
    statement_id = _published(client, auth, now)
    notify(runtime, org_a, statement_id)
    notify(runtime, org_a, statement_id)  # a repeat changes nothing
    for role in ("Organisation.Admin", "Organisation.Reader", "Privacy.Officer"):
        response = client.get(_notices(org_a), headers=auth(org_a, role))
        assert response.status_code == 200
        [notice] = response.get_json()["items"]
        assert notice["kind"] == "statement_published"
        assert notice["statement_id"] == statement_id
        assert notice["material"] is True
        assert notice["effective_from"].startswith((now + timedelta(days=30)).date().isoformat())
        assert notice["acknowledged_at"] is None
    assert _actions(runtime, org_a).count(PolicyAction.NoticeCreate) == 1


def test_acknowledging_records_who_and_when_once(now, client, runtime, org_a: Org, auth):
    notify(runtime, org_a, _published(client, auth, now))
    admin = auth(org_a, "Organisation.Admin", name="Ann Admin")
    [notice] = client.get(_notices(org_a), headers=admin).get_json()["items"]
    url = _notices(org_a, f"/{notice['id']}/acknowledge")
    reader = client.post(url, headers=auth(org_a, "Organisation.Reader"))
    assert reader.status_code == 403
    response = client.post(url, headers=admin)
    assert response.status_code == 200
    acknowledged = response.get_json()
    assert acknowledged["acknowledged_at"] is not None
    assert acknowledged["acknowledged_by"]
    again = client.post(url, headers=auth(org_a, "Privacy.Officer"))
    assert again.status_code == 409
    assert again.get_json()["code"] == "notice-already-acknowledged"
    assert _actions(runtime, org_a)[-1] == PolicyAction.NoticeAcknowledge
    open_ones = client.get(_notices(org_a, "?acknowledged=false"), headers=admin)
    assert open_ones.get_json()["items"] == []


def test_another_organisation_cannot_see_or_acknowledge_the_notice(
    now, client, runtime, org_a: Org, org_b: Org, auth
):
    notify(runtime, org_a, _published(client, auth, now))
    [notice] = client.get(_notices(org_a), headers=auth(org_a, "Organisation.Admin")).get_json()[
        "items"
    ]
    b_admin = auth(org_b, "Organisation.Admin")
    assert client.get(_notices(org_b), headers=b_admin).get_json()["items"] == []
    assert client.get(_notices(org_a), headers=b_admin).status_code == 404
    assert client.get(_notices(org_a, f"/{notice['id']}"), headers=b_admin).status_code == 404
    ack = _notices(org_b, f"/{notice['id']}/acknowledge")
    assert client.post(ack, headers=b_admin).status_code == 404
    ack_a = _notices(org_a, f"/{notice['id']}/acknowledge")
    assert client.post(ack_a, headers=b_admin).status_code == 404
    still_open = client.get(
        _notices(org_a, f"/{notice['id']}"), headers=auth(org_a, "Organisation.Admin")
    )
    assert still_open.get_json()["acknowledged_at"] is None


def test_facito_staff_read_but_do_not_acknowledge_notices(now, client, runtime, org_a: Org, auth):
    notify(runtime, org_a, _published(client, auth, now))
    for role in ("Facito.PrivacyOfficer", "Facito.Operator"):
        staff = auth(None, role)
        [notice] = client.get(_notices(org_a), headers=staff).get_json()["items"]
        refused = client.post(_notices(org_a, f"/{notice['id']}/acknowledge"), headers=staff)
        # Without a support grant, what staff may not do inside an organisation is not there.
        assert refused.status_code == 404
