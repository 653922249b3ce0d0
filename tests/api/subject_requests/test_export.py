"""Access and portability exports: the fulfilment job writes a ZIP of the subject's data (and
nobody else's), only the request's assignee downloads it (audited), and it expires."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from facito_admin.accounts.models import AccountStatus
from facito_admin.db.base import utcnow
from facito_admin.jobs.queue import queue_of
from facito_admin.jobs.runner import run_job
from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import RequestAction
from facito_admin.subject_requests.export import expire_exports, export_folder
from tests.api.contracts.helpers import create_contract
from tests.api.organisations.helpers import audit_trail
from tests.api.subject_requests.helpers import (
    ADMIN,
    OFFICER,
    READER,
    Auth,
    employee,
    file_for,
    file_own,
    queue_url,
)
from tests.conftest import Org
from tests.factories.accounts import birth_date_for_age, grant, make_account
from tests.factories.consents import change_preferences, make_guardian_consent
from tests.factories.user_data import PRODUCT, insert_records

HANDLER_OID = "0d2c7f0e-4a53-4c1e-9d1b-00000000ad01"
CONTACT = "identity.contact"
FILES = "content.files"
# A category Facito always controls itself (policies/categories.py: FACITO_CONTROLLED).
SUPPORT = "support.interactions"
FORMULA = '=HYPERLINK("https://evil.example")'


def _contract(client: FlaskClient, org: Org, auth: Auth) -> None:
    """The organisation's contract: Facito processes PRODUCT for it (it is the controller)."""
    create_contract(
        client,
        org,
        auth(None, "Facito.Operator"),
        products=[{"code": PRODUCT, "role": "processor"}],
    )


def _handler(org: Org, auth: Auth) -> dict[str, str]:
    return auth(org, ADMIN, oid=HANDLER_OID)


def _fulfil(
    client: FlaskClient, runtime: Runtime, org: Org, handler: dict[str, str], request_id: str
) -> dict[str, Any]:
    """Assign the request to ``handler``, fulfil it, run the job; the request afterwards."""
    assigned = client.post(queue_url(org, f"/{request_id}/assign"), json={}, headers=handler)
    assert assigned.status_code == 200, assigned.get_json()
    started = client.post(queue_url(org, f"/{request_id}/fulfil"), headers=handler)
    assert started.status_code == 202, started.get_json()
    run_job(queue_of(runtime), org.id, uuid.UUID(started.get_json()["id"]))
    job = client.get(started.headers["Location"], headers=handler).get_json()
    assert job["state"] == "succeeded", job
    return dict(client.get(queue_url(org, f"/{request_id}"), headers=handler).get_json())


def _download(client: FlaskClient, org: Org, headers: dict[str, str], request_id: str) -> Any:
    return client.get(queue_url(org, f"/{request_id}/export"), headers=headers)


def _members(response: Any) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def _ids(members: dict[str, bytes], name: str) -> set[str]:
    return {record["id"] for record in json.loads(members[name])}


def test_the_assignee_downloads_every_linked_record_of_the_subject_and_nothing_of_anyone_else(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    _contract(client, org_a, auth)
    subject, me = employee(runtime, org_a, auth)
    colleague = make_account(runtime, org_a.id, "colleague").id
    outsider = make_account(runtime, org_b.id, "outsider").id
    files = insert_records(runtime, org_a.id, subject, 3, category=FILES)
    contact = insert_records(
        runtime, org_a.id, subject, 1, start=10, category=CONTACT, external_key=FORMULA
    )
    insert_records(runtime, org_a.id, subject, 1, start=20, category=FILES, deleted_at=utcnow())
    insert_records(runtime, org_a.id, colleague, 2, start=30, category=FILES)
    insert_records(runtime, org_b.id, outsider, 2, start=40, category=FILES)
    grant(runtime, org_a.id, subject, PRODUCT)
    change_preferences(runtime, org_a.id, subject, {"channels": {"email": True}})
    request = file_own(client, me)
    handler = _handler(org_a, auth)

    fulfilled = _fulfil(client, runtime, org_a, handler, request["id"])
    export = fulfilled["results"]["export"]
    assert (export["status"], export["records"]) == ("ready", 4)
    assert fulfilled["timeline"][-1]["event"] == "export_ready"

    response = _download(client, org_a, handler, request["id"])
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert int(response.headers["Content-Length"]) == len(response.data) == export["bytes"]
    assert hashlib.sha256(response.data).hexdigest() == export["sha256"]
    members = _members(response)
    assert _ids(members, f"records/{FILES}.json") == {str(i) for i in files}
    assert _ids(members, f"records/{CONTACT}.json") == {str(i) for i in contact}
    assert set(members) == {
        "manifest.json",
        "profile.json",
        "products.json",
        "preferences.json",
        "preference-changes.json",
        "guardian-consents.json",
        *(f"records/{c}.{f}" for c in (FILES, CONTACT) for f in ("json", "csv")),
    }

    manifest = json.loads(members["manifest.json"])
    assert manifest["request"]["reference"] == request["reference"]
    assert manifest["subject"]["account_id"] == str(subject)
    assert manifest["organisation_id"] == str(org_a.id)
    assert manifest["counts"]["records"] == {FILES: 3, CONTACT: 1}
    assert manifest["counts"]["records_total"] == 4
    assert (manifest["counts"]["products"], manifest["counts"]["preference_changes"]) == (1, 1)
    assert manifest["basis"]["right"].startswith("GDPR art. 15")
    for listed in manifest["files"]:
        content = members[listed["name"]]
        assert (listed["bytes"], listed["sha256"]) == (
            len(content),
            hashlib.sha256(content).hexdigest(),
        )
    assert {f["name"] for f in manifest["files"]} == set(members) - {"manifest.json"}

    assert json.loads(members["profile.json"])["id"] == str(subject)
    assert [p["product_code"] for p in json.loads(members["products.json"])] == [PRODUCT]
    assert json.loads(members["preferences.json"])["preferences"]["channels"]["email"] is True
    rows = list(csv.DictReader(io.StringIO(members[f"records/{CONTACT}.csv"].decode())))
    # The spreadsheet sees text, never a formula; the JSON holds the value as stored.
    assert rows[0]["external_key"] == f"'{FORMULA}"
    [record] = json.loads(members[f"records/{CONTACT}.json"])
    assert (record["external_key"], record["content"]) == (FORMULA, {"n": "10"})
    assert json.loads(rows[0]["content"]) == {"n": "10"}
    assert {
        row["id"] for row in csv.DictReader(io.StringIO(members[f"records/{FILES}.csv"].decode()))
    } == {str(i) for i in files}

    actions = [e["action"] for e in audit_trail(runtime, org_a.id)]
    assert actions.count(RequestAction.Export) == 1
    assert actions.count(RequestAction.DownloadExport) == 1
    assert [e["action"] for e in audit_trail(runtime, org_b.id)].count(RequestAction.Export) == 0


def test_only_the_assignee_downloads_and_another_organisation_sees_no_request(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    _contract(client, org_a, auth)
    subject, me = employee(runtime, org_a, auth)
    insert_records(runtime, org_a.id, subject, 2)
    request = file_own(client, me)
    _fulfil(client, runtime, org_a, _handler(org_a, auth), request["id"])

    colleague = _download(client, org_a, auth(org_a, OFFICER), request["id"])
    assert colleague.status_code == 403
    assert colleague.get_json()["code"] == "dsr-export-not-assignee"
    assert _download(client, org_a, auth(org_a, READER), request["id"]).status_code == 403
    assert _download(client, org_a, me, request["id"]).status_code == 403
    other = _download(client, org_b, auth(org_b, ADMIN, oid=HANDLER_OID), request["id"])
    assert other.status_code == 404
    made_up = _download(client, org_a, _handler(org_a, auth), str(uuid.uuid4()))
    assert made_up.status_code == 404
    downloads = [
        e for e in audit_trail(runtime, org_a.id) if e["action"] == RequestAction.DownloadExport
    ]
    assert downloads == []


def test_a_request_without_an_export_answers_not_ready(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    request = file_own(client, me)
    handler = _handler(org_a, auth)
    client.post(queue_url(org_a, f"/{request['id']}/assign"), json={}, headers=handler)
    response = _download(client, org_a, handler, request["id"])
    assert response.status_code == 409
    assert response.get_json()["code"] == "dsr-export-not-ready"


def test_an_expired_export_is_deleted_marked_expired_and_answers_gone(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _contract(client, org_a, auth)
    subject, me = employee(runtime, org_a, auth)
    insert_records(runtime, org_a.id, subject, 1)
    request = file_own(client, me)
    handler = _handler(org_a, auth)
    export = _fulfil(client, runtime, org_a, handler, request["id"])["results"]["export"]
    stored = export_folder(runtime, org_a.id) / export["file"]
    assert stored.is_file()

    assert expire_exports(runtime, now=utcnow() + timedelta(days=6)) == 0
    assert stored.is_file()
    assert expire_exports(runtime, now=utcnow() + timedelta(days=7, minutes=1)) == 1
    assert not stored.exists()
    after = client.get(queue_url(org_a, f"/{request['id']}"), headers=handler).get_json()
    assert after["results"]["export"]["status"] == "expired"
    assert after["timeline"][-1]["event"] == "export_expired"
    gone = _download(client, org_a, handler, request["id"])
    assert gone.status_code == 410
    assert gone.get_json()["code"] == "dsr-export-expired"
    actions = [e["action"] for e in audit_trail(runtime, org_a.id)]
    assert actions.count(RequestAction.ExpireExport) == 1
    # Once only: the next scan finds nothing to do.
    assert expire_exports(runtime, now=utcnow() + timedelta(days=8)) == 0


def test_a_portability_request_is_exported_the_same_way(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _contract(client, org_a, auth)
    subject, me = employee(runtime, org_a, auth)
    records = insert_records(runtime, org_a.id, subject, 2)
    request = file_own(client, me, kind="portability")
    handler = _handler(org_a, auth)
    _fulfil(client, runtime, org_a, handler, request["id"])
    members = _members(_download(client, org_a, handler, request["id"]))
    assert _ids(members, f"records/{FILES}.json") == {str(i) for i in records}
    manifest = json.loads(members["manifest.json"])
    assert manifest["request"]["kind"] == "portability"
    assert manifest["basis"]["right"].startswith("GDPR art. 20")


def test_the_scope_limits_the_categories(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _contract(client, org_a, auth)
    subject, me = employee(runtime, org_a, auth)
    insert_records(runtime, org_a.id, subject, 2, category=FILES)
    contact = insert_records(runtime, org_a.id, subject, 1, start=10, category=CONTACT)
    request = file_own(client, me, scope={"categories": [CONTACT]})
    handler = _handler(org_a, auth)
    _fulfil(client, runtime, org_a, handler, request["id"])
    members = _members(_download(client, org_a, handler, request["id"]))
    assert [name for name in members if name.startswith("records/")] == [
        f"records/{CONTACT}.json",
        f"records/{CONTACT}.csv",
    ]
    assert _ids(members, f"records/{CONTACT}.json") == {str(contact[0])}
    assert json.loads(members["manifest.json"])["scope"]["categories"] == [CONTACT]


def test_records_facito_controls_are_left_to_its_dpo_and_only_counted(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _contract(client, org_a, auth)
    subject, me = employee(runtime, org_a, auth)
    ours = insert_records(runtime, org_a.id, subject, 1)
    insert_records(runtime, org_a.id, subject, 2, start=10, category=SUPPORT)
    request = file_own(client, me)
    assert request["linked_request_id"] is not None  # split: the DPO answers for its part
    handler = _handler(org_a, auth)
    _fulfil(client, runtime, org_a, handler, request["id"])
    members = _members(_download(client, org_a, handler, request["id"]))
    assert f"records/{SUPPORT}.json" not in members
    assert _ids(members, f"records/{FILES}.json") == {str(ours[0])}
    assert json.loads(members["manifest.json"])["scope"]["left_to_facito_dpo"] == {SUPPORT: 2}


def test_a_minors_export_filed_for_the_guardian_holds_the_guardian_consent(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    kid = make_account(
        runtime,
        org_a.id,
        "kid",
        birth_date=birth_date_for_age(13),
        status=AccountStatus.disabled,  # until the guardian consents (art. 8)
    ).id
    consent = make_guardian_consent(runtime, org_a.id, kid)
    handler = _handler(org_a, auth)
    filed = file_for(
        client,
        org_a,
        handler,
        kid,
        channel="in_person",
        on_behalf_of="guardian",
        guardian_consent_id=str(consent.id),
    )
    assert filed.status_code == 201, filed.get_json()
    _fulfil(client, runtime, org_a, handler, filed.get_json()["id"])
    members = _members(_download(client, org_a, handler, filed.get_json()["id"]))
    consents = json.loads(members["guardian-consents.json"])
    assert [(c["id"], c["in_force"]) for c in consents] == [(str(consent.id), True)]
    assert json.loads(members["manifest.json"])["counts"]["records_total"] == 0
