"""A successful change that recorded no audit event is undone and answered with 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.views import MethodView
from sqlalchemy import select

from facito_admin.app import create_app
from facito_admin.audit.models import AuditEvent
from facito_admin.audit.service import record_event
from facito_admin.auth.permissions import Permission
from facito_admin.http import audit_exempt, current_ctx, db_session, require
from facito_admin.http.transactions import AUDIT_EXEMPT_ATTR
from facito_admin.tenants.models import Organisation
from tests.conftest import Org, get_organisation_row

# A blueprint that exists only in these tests: each view renames the organisation, then
# records (or forgets) the audit event.
test_blp = Blueprint("audit_enforcement_test", __name__, url_prefix="/test/<uuid:org_id>")


def _rename(org_id: uuid.UUID, name: str) -> None:
    session = db_session()
    organisation = session.get(Organisation, org_id)
    assert organisation is not None
    organisation.name = name
    session.flush()


class Audited(MethodView):
    @require(Permission.OrganisationRead)
    def post(self, org_id: uuid.UUID) -> Any:
        _rename(org_id, "Audited B.V.")
        record_event(
            db_session(),
            current_ctx(),
            action="test:organisation:rename",
            target_type="organisation",
            target_id=org_id,
        )
        return {"ok": True}


class Forgetful(MethodView):
    @require(Permission.OrganisationRead)
    def post(self, org_id: uuid.UUID) -> Any:
        _rename(org_id, "Forgotten B.V.")
        return {"ok": True}

    @require(Permission.OrganisationRead)
    def delete(self, org_id: uuid.UUID) -> Any:
        return "", 204

    @require(Permission.OrganisationRead)
    def put(self, org_id: uuid.UUID) -> Any:
        _rename(org_id, "Refused B.V.")
        return {"refused": True}, 409


class Sessionless(MethodView):
    def post(self, org_id: uuid.UUID) -> Any:
        return {"sent": True}, 202


class Exempt(MethodView):
    @audit_exempt(reason="builds a URL, changes nothing")
    @require(Permission.OrganisationRead)
    def post(self, org_id: uuid.UUID) -> Any:
        db_session()
        return {"url": "https://example.invalid/consent"}


test_blp.add_url_rule("/audited", view_func=Audited.as_view("audited"))
test_blp.add_url_rule("/forgetful", view_func=Forgetful.as_view("forgetful"))
test_blp.add_url_rule("/exempt", view_func=Exempt.as_view("exempt"))
test_blp.add_url_rule("/sessionless", view_func=Sessionless.as_view("sessionless"))


@pytest.fixture(scope="module")
def enforcing_app(settings, process_runtime) -> Flask:
    app = create_app(settings, runtime=process_runtime)
    app.register_blueprint(test_blp)
    return app


@pytest.fixture
def test_client(enforcing_app: Flask, runtime):
    return enforcing_app.test_client()


def _events(runtime, org: Org) -> list[AuditEvent]:
    with runtime.session(organisation_id=org.id) as session:
        return list(session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def test_a_change_with_its_audit_event_is_committed(test_client, auth, runtime, org_a, org_b):
    response = test_client.post(
        f"/test/{org_a.id}/audited", headers=auth(org_a, "Organisation.Admin")
    )
    assert response.status_code == 200
    assert get_organisation_row(runtime, org_a.id).name == "Audited B.V."
    assert _events(runtime, org_a)[-1].action == "test:organisation:rename"
    assert len(_events(runtime, org_b)) == 1


def test_a_change_without_audit_event_is_rolled_back_with_500(
    test_client, auth, runtime, org_a, org_b, caplog
):
    response = test_client.post(
        f"/test/{org_a.id}/forgetful", headers=auth(org_a, "Organisation.Admin")
    )
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "audit-event-missing"
    assert get_organisation_row(runtime, org_a.id).name == "Org-A B.V."
    assert len(_events(runtime, org_a)) == 1
    assert "mutation_without_audit_event" in caplog.text


def test_a_mutating_request_that_changed_nothing_needs_an_event_or_an_exemption(
    test_client, auth, org_a, org_b
):
    response = test_client.delete(
        f"/test/{org_a.id}/forgetful", headers=auth(org_a, "Organisation.Admin")
    )
    assert response.status_code == 500
    # Nor does a request that never opened a database session escape the rule.
    sessionless = test_client.post(
        f"/test/{org_a.id}/sessionless", headers=auth(org_a, "Organisation.Admin")
    )
    assert sessionless.status_code == 500


def test_a_failed_mutation_keeps_its_own_answer_and_is_rolled_back(
    test_client, auth, runtime, org_a, org_b
):
    response = test_client.put(
        f"/test/{org_a.id}/forgetful", headers=auth(org_a, "Organisation.Admin")
    )
    assert response.status_code == 409
    assert get_organisation_row(runtime, org_a.id).name == "Org-A B.V."


def test_an_exempt_view_succeeds_without_an_event(test_client, auth, runtime, org_a, org_b):
    response = test_client.post(
        f"/test/{org_a.id}/exempt", headers=auth(org_a, "Organisation.Admin")
    )
    assert response.status_code == 200
    assert len(_events(runtime, org_a)) == 1


def test_refusals_before_the_view_are_left_alone(test_client, auth, org_a, org_b):
    assert test_client.post(f"/test/{org_a.id}/forgetful").status_code == 401
    other = test_client.post(
        f"/test/{org_b.id}/forgetful", headers=auth(org_a, "Organisation.Admin")
    )
    assert other.status_code == 404
    assert test_client.post(f"/test/{org_a.id}/nowhere").status_code == 404


def test_an_exemption_must_give_a_reason_and_is_visible_on_the_view():
    with pytest.raises(ValueError, match="changes nothing"):
        audit_exempt(reason=" ")
    assert getattr(Exempt.post, AUDIT_EXEMPT_ATTR) == "builds a URL, changes nothing"


def test_every_mutating_route_of_the_app_is_audited_or_exempt(app):
    # Views of the real app either record events (their services do) or carry an exemption;
    # this lists the exemptions so that a new one is a visible, reviewed change.
    exempt = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}:
            handler = getattr(view_class, method.lower(), view)
            reason = getattr(handler, AUDIT_EXEMPT_ATTR, None)
            if reason:
                exempt[f"{method} {rule.rule}"] = reason
    search = "a SCIM search sent as POST changes nothing"
    assert exempt == {
        "POST /scim/v2/.search": search,
        "POST /scim/v2/Users/.search": search,
        "POST /scim/v2/Groups/.search": search,
    }
