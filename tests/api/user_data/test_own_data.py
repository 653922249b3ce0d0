"""The employee's own data under /v1/me/data: summary, records and audited content reads of
their own account; anyone else's record is not found."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from facito_admin.user_data.actions import DataRecordAction
from tests.api.user_data.helpers import INTEGRATION, events
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.user_data import insert_records

Auth = Callable[..., dict[str, str]]


def _employee(runtime: Runtime, org: Org, auth: Auth, n: int) -> tuple[uuid.UUID, dict[str, str]]:
    oid = str(uuid.uuid4())
    account = make_account(runtime, org.id, n, entra_oid=oid)
    return account.id, auth(org, oid=oid)


def test_an_employee_sees_the_summary_and_records_of_their_own_account(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    mine, me = _employee(runtime, org_a, auth, 1)
    theirs, _ = _employee(runtime, org_a, auth, 2)
    insert_records(runtime, org_a.id, mine, 2)
    insert_records(runtime, org_a.id, theirs, 3, start=10)
    summary = client.get("/v1/me/data", headers=me).get_json()
    assert (summary["account_id"], summary["total"]) == (str(mine), 2)
    records = client.get("/v1/me/data/records", headers=me).get_json()
    assert sorted(r["external_key"] for r in records["items"]) == ["rec-0", "rec-1"]
    assert all("content" not in r for r in records["items"])
    narrowed = client.get(
        "/v1/me/data/records", query_string={"category": "usage.device"}, headers=me
    )
    assert narrowed.get_json()["items"] == []


def test_an_employee_reads_their_own_content_audited_and_nobody_elses(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    mine, me = _employee(runtime, org_a, auth, 1)
    theirs, _ = _employee(runtime, org_a, auth, 2)
    elsewhere, _ = _employee(runtime, org_b, auth, 3)
    [own] = insert_records(runtime, org_a.id, mine)
    [colleague] = insert_records(runtime, org_a.id, theirs, start=10)
    [foreign] = insert_records(runtime, org_b.id, elsewhere, start=20)
    response = client.get(f"/v1/me/data/records/{own}/content", headers=me)
    assert response.status_code == 200
    assert response.get_json()["content"] == {"n": "0"}
    [event] = events(runtime, org_a, DataRecordAction.OwnDataContentRead)
    assert (event.target_id, event.details["account_id"]) == (str(own), str(mine))
    for other in (colleague, foreign, uuid.uuid4()):
        assert client.get(f"/v1/me/data/records/{other}/content", headers=me).status_code == 404
    assert len(events(runtime, org_a, DataRecordAction.OwnDataContentRead)) == 1


def test_a_person_without_an_account_and_an_app_have_no_own_data(
    client: FlaskClient, org_a: Org, auth: Auth
):
    assert client.get("/v1/me/data", headers=auth(org_a)).status_code == 404
    app = auth(org_a, INTEGRATION, app=True)
    assert client.get("/v1/me/data", headers=app).status_code == 403
    assert client.get("/v1/me/data/records", headers=app).status_code == 403
