"""The organisation's full export: everything of its own, nothing of anyone else's."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from facito_admin.db.base import Base, utcnow
from facito_admin.domains import load_models
from facito_admin.offboarding import archive
from facito_admin.offboarding.actions import OffboardingAction
from facito_admin.offboarding.models import OrganisationExport
from facito_admin.runtime import Runtime
from tests.api.offboarding.helpers import (
    ADMIN,
    exports_url,
    lines,
    members,
    offboard,
    run_export,
    start_export,
)
from tests.api.organisations.helpers import actions
from tests.conftest import Org
from tests.factories.offboarding import seed_every_kind

MEMBERS = {
    "organisation.json",
    "accounts.jsonl",
    "entitlements.jsonl",
    "groups.jsonl",
    "group-members.jsonl",
    "data-records.jsonl",
    "preference-changes.jsonl",
    "preferences.jsonl",
    "guardian-consents.jsonl",
    "legal-holds.jsonl",
    "data-subject-requests.jsonl",
    "processing-restrictions.jsonl",
    "contracts.jsonl",
    "deletion-certificates.jsonl",
    "webhook-endpoints.jsonl",
    "audit-events.jsonl",
    "audit-checkpoints.jsonl",
    "statement-notices.jsonl",
    "incident-notices.jsonl",
    "support-access-requests.jsonl",
    "scim-tokens.jsonl",
    "manifest.json",
}


def test_an_offboarded_organisations_export_holds_all_its_data_and_nothing_of_another(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Any, operator
):
    a = seed_every_kind(runtime, org_a)
    b = seed_every_kind(runtime, org_b)
    offboard(client, org_a, operator)
    admin = auth(org_a, ADMIN)

    export = run_export(client, runtime, org_a, admin)
    assert export["status"] == "ready"
    download = client.get(exports_url(org_a, f"/{export['id']}/download"), headers=admin)
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert int(download.headers["Content-Length"]) == len(download.data) == export["bytes"]
    assert hashlib.sha256(download.data).hexdigest() == export["sha256"]
    files = members(download.data)
    assert set(files) == MEMBERS

    everything = b"\n".join(files.values()).decode()
    # All of A: every seeded id and address.
    assert [i for i in a.ids if i not in everything] == []
    assert [e for e in a.emails if e not in everything] == []
    # Nothing of B: not one id, not one address, not its organisation id.
    assert [i for i in b.ids if i in everything] == []
    assert [e for e in b.emails if e in everything] == []
    assert str(org_b.id) not in everything

    accounts = lines(files["accounts.jsonl"])
    assert {a["id"] for a in accounts} >= {str(i) for i in a.accounts.values()}
    records = lines(files["data-records.jsonl"])
    assert {r["id"] for r in records} >= {str(i) for i in a.records}
    seeded = {str(i) for i in a.records}
    assert all(r["content"] is not None for r in records if r["id"] in seeded)
    endpoint = lines(files["webhook-endpoints.jsonl"])[0]
    assert "secret_encrypted" not in endpoint
    assert "secret_sha256" not in lines(files["scim-tokens.jsonl"])[0]
    assert [g["display_name"] for g in lines(files["groups.jsonl"])] == ["Everyone"]
    assert len(lines(files["group-members.jsonl"])) == 2
    assert len(lines(files["preferences.jsonl"])) == 2
    events = lines(files["audit-events.jsonl"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))

    manifest = json.loads(files["manifest.json"])
    assert manifest["organisation_id"] == str(org_a.id)
    assert manifest["counts"]["accounts"] == len(accounts)
    assert manifest["counts"]["data_records"] == len(records)
    assert manifest["counts"]["guardian_consents"] == 1
    assert manifest["counts"]["webhook_endpoints"] == 1
    assert manifest["counts"]["audit_events"] == len(events)
    for listed in manifest["files"]:
        content = files[listed["name"]]
        assert listed["sha256"] == hashlib.sha256(content).hexdigest()
    assert export["counts"] == manifest["counts"]

    trail = actions(runtime, org_a.id)
    assert trail.count(OffboardingAction.ExportStart) == 1
    assert trail.count(OffboardingAction.ExportWrite) == 1
    assert trail.count(OffboardingAction.ExportDownload) == 1
    assert OffboardingAction.ExportStart not in actions(runtime, org_b.id)


def test_an_active_organisations_privacy_officer_exports_too_and_lists_its_exports(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Any
):
    officer = auth(org_a, "Privacy.Officer")
    export = run_export(client, runtime, org_a, officer)
    listed = client.get(exports_url(org_a), headers=officer).get_json()
    assert [e["id"] for e in listed["items"]] == [export["id"]]
    reader = auth(org_a, "Organisation.Reader")
    assert client.get(exports_url(org_a), headers=reader).status_code == 403
    assert client.post(exports_url(org_a), headers=reader).status_code == 403


def test_another_organisation_sees_no_export(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Any
):
    export = run_export(client, runtime, org_a, auth(org_a, ADMIN))
    other = auth(org_b, ADMIN)
    for path in ("", f"/{export['id']}", f"/{export['id']}/download"):
        response = client.get(exports_url(org_a, path), headers=other)
        assert response.status_code == 404, path
        # B's own routes do not know A's export either.
        assert client.get(exports_url(org_b, path), headers=other).status_code in (200, 404)
    assert client.get(exports_url(org_b, f"/{export['id']}"), headers=other).status_code == 404
    assert client.get(exports_url(org_b), headers=other).get_json()["items"] == []


def test_a_pending_export_answers_not_ready_and_an_expired_one_gone(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Any
):
    admin = auth(org_a, ADMIN)
    pending = start_export(client, org_a, admin)
    response = client.get(exports_url(org_a, f"/{pending}/download"), headers=admin)
    assert (response.status_code, response.get_json()["code"]) == (
        409,
        "organisation-export-not-ready",
    )

    export = run_export(client, runtime, org_a, admin)
    with runtime.session(organisation_id=org_a.id, write=True) as session, session.begin():
        row = session.get(OrganisationExport, (org_a.id, uuid.UUID(export["id"])))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    shown = client.get(exports_url(org_a, f"/{export['id']}"), headers=admin).get_json()
    assert shown["status"] == "expired"
    gone = client.get(exports_url(org_a, f"/{export['id']}/download"), headers=admin)
    assert (gone.status_code, gone.get_json()["code"]) == (410, "organisation-export-expired")


def test_every_table_of_an_organisations_data_is_exported_or_left_out_for_a_stated_reason():
    load_models()
    with_organisation = {t.name for t in Base.metadata.sorted_tables if "organisation_id" in t.c}
    exported = {member.model.__table__.name for member in archive.MEMBERS}
    in_the_profile = {"organisations", "federations", "email_domains"}
    assert with_organisation - exported - in_the_profile == set(archive.NOT_EXPORTED)
