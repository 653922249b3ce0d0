"""Ingestion through the API: upsert by key, all or nothing with every item's errors, the
effective policy's regions, purposes, idempotency, one audit and webhook event per batch."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.runtime import Runtime
from facito_admin.user_data.actions import DataRecordAction
from tests.api.contracts.helpers import OPERATOR, create_contract
from tests.api.user_data.helpers import (
    ADMIN,
    INTEGRATION,
    READER,
    batch_url,
    data_url,
    events,
    ingest,
    item,
)
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.user_data import delete_account
from tests.factories.webhooks import deliveries, make_endpoint

Auth = Callable[..., dict[str, str]]


def _errors(response) -> list[tuple[int, str, str]]:
    body = response.get_json()
    assert response.status_code == 422, body
    assert body["code"] == "batch-invalid"
    assert response.mimetype == "application/problem+json"
    return [(e["index"], e["field"], e["code"]) for e in body["errors"]]


def test_an_integration_ingests_a_batch_and_a_second_push_updates_by_key(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    app = auth(org_a, INTEGRATION, app=True)
    first = ingest(client, org_a, app, [item(account.id, n) for n in range(3)])
    assert (first["created"], first["updated"]) == (3, 0)
    assert [r["index"] for r in first["records"]] == [0, 1, 2]
    assert all(r["created"] for r in first["records"])

    again = [item(account.id, 1, category="usage.device", sensitive=True), item(account.id, 9)]
    second = ingest(client, org_a, app, again)
    assert (second["created"], second["updated"]) == (1, 1)
    assert second["records"][0]["id"] == first["records"][1]["id"]
    assert second["records"][0]["created"] is False

    listed = client.get(data_url(org_a, account.id), headers=auth(org_a, READER)).get_json()
    assert len(listed["items"]) == 4
    updated = next(r for r in listed["items"] if r["external_key"] == "rec-1")
    assert updated["category"] == "usage.device"
    assert updated["sensitivity"] == {"record": True, "category": False}
    assert updated["sensitive"] is True


def test_one_audit_event_and_one_webhook_event_per_batch_carry_the_counts(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    endpoint = make_endpoint(
        runtime, org_a.id, "https://hooks.example.test/h", event_types=["data_records.ingested"]
    )
    ingest(client, org_a, auth(org_a, ADMIN), [item(account.id, n) for n in range(5)])
    audited = events(runtime, org_a, DataRecordAction.DataRecordsIngest)
    assert [e.details for e in audited] == [{"created": 5, "updated": 0, "total": 5}]
    sent = deliveries(runtime, org_a.id)
    assert [d.payload["data"] for d in sent if d.endpoint_id == endpoint.id] == [
        {"created": 5, "updated": 0, "total": 5}
    ]


def test_one_bad_item_refuses_the_batch_and_every_error_of_every_item_is_listed(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    admin = auth(org_a, ADMIN)
    future = (utcnow() + timedelta(days=1)).isoformat()
    items = [
        item(account.id, 0),
        item(account.id, 1, category="nonsense", occurred_at=future),
        item(account.id, 2, storage={"subprocessor": "transip", "region": "azure-de"}),
        item(account.id, 3, content={"a": 1}, content_ref="https://files.example/3"),
        item(account.id, 4, product="no-such-product", surplus=True),
        item(account.id, 0),
        "not an object",
        {k: v for k, v in item(account.id, 7).items() if k != "external_key"},
    ]
    response = client.post(batch_url(org_a), json={"records": items}, headers=admin)
    assert _errors(response) == [
        (1, "records.1.category", "unknown-category"),
        (1, "records.1.occurred_at", "in-future"),
        (2, "records.2.storage.region", "region-of-another-subprocessor"),
        (3, "records.3.content_ref", "content-and-reference"),
        (4, "records.4.surplus", "unknown-field"),
        (5, "records.5.external_key", "duplicate-key"),
        (6, "records.6", "invalid"),
        (7, "records.7.external_key", "required"),
    ]
    assert all(e["location"] == "json" for e in response.get_json()["errors"])
    listed = client.get(data_url(org_a, account.id), headers=admin).get_json()
    assert listed["items"] == []
    assert events(runtime, org_a, DataRecordAction.DataRecordsIngest) == []


def test_items_that_only_the_database_refuses_are_listed_together(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    account = make_account(runtime, org_a.id, 1)
    deleted = make_account(runtime, org_a.id, 2)
    delete_account(runtime, org_a.id, deleted.id)
    foreign = make_account(runtime, org_b.id, 3)
    items = [
        item(account.id, 0, product="no-such-product"),
        item(deleted.id, 1),
        item(foreign.id, 2),
        item(uuid.uuid4(), 3),
    ]
    response = client.post(batch_url(org_a), json={"records": items}, headers=auth(org_a, ADMIN))
    assert _errors(response) == [
        (0, "records.0.product", "unknown-product"),
        (1, "records.1.account_id", "account-deleted"),
        (2, "records.2.account_id", "account-not-found"),
        (3, "records.3.account_id", "account-not-found"),
    ]
    # Another organisation's account reads exactly like one that does not exist.
    errors = response.get_json()["errors"]
    assert {k: v for k, v in errors[2].items() if k not in ("index", "field")} == {
        k: v for k, v in errors[3].items() if k not in ("index", "field")
    }


def test_communications_content_and_files_never_serve_advertising(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    items = [
        item(account.id, 0, category="content.files", purposes=["service_delivery", "advertising"]),
        item(account.id, 1, category="content.communications", purposes=["advertising"]),
        item(account.id, 2, category="usage.device", purposes=["advertising"]),
    ]
    response = client.post(batch_url(org_a), json={"records": items}, headers=auth(org_a, ADMIN))
    assert _errors(response) == [
        (0, "records.0.purposes.1", "purpose-not-allowed"),
        (1, "records.1.purposes.0", "purpose-not-allowed"),
    ]
    ingest(client, org_a, auth(org_a, ADMIN), [items[2]])


def test_a_region_the_contract_does_not_allow_is_refused_at_write_time(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, operator: dict[str, str]
):
    account = make_account(runtime, org_a.id)
    admin = auth(org_a, ADMIN)
    us = item(account.id, 0, storage={"subprocessor": "azure", "region": "azure-us"})
    ingest(client, org_a, admin, [us])
    create_contract(client, org_a, operator, overrides={"residency.eea_only": True})
    response = client.post(batch_url(org_a), json={"records": [us]}, headers=admin)
    assert _errors(response) == [(0, "records.0.storage.region", "region-not-allowed")]
    assert "outside the EEA" in response.get_json()["errors"][0]["message"]
    ingest(client, org_a, admin, [item(account.id, 1)])
    assert OPERATOR


def test_the_allowed_regions_of_a_contract_bound_ingestion(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth, operator: dict[str, str]
):
    account = make_account(runtime, org_a.id)
    create_contract(
        client,
        org_a,
        operator,
        overrides={"residency.allowed_regions": ["transip-nl-amsterdam", "azure-de"]},
    )
    delft = item(account.id, 0, storage={"subprocessor": "transip", "region": "transip-nl-delft"})
    response = client.post(
        batch_url(org_a), json={"records": [delft, item(account.id, 1)]}, headers=auth(org_a, ADMIN)
    )
    assert _errors(response) == [(0, "records.0.storage.region", "region-not-allowed")]


def test_the_same_idempotency_key_replays_the_answer_and_writes_once(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    headers = auth(org_a, INTEGRATION, app=True, oid=str(uuid.uuid4()))
    headers = {**headers, "Idempotency-Key": "batch-0001"}
    body = {"records": [item(account.id, n) for n in range(2)]}
    first = client.post(batch_url(org_a), json=body, headers=headers)
    second = client.post(batch_url(org_a), json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert second.get_json()["created"] == 2
    assert len(events(runtime, org_a, DataRecordAction.DataRecordsIngest)) == 1
    other = client.post(batch_url(org_a), json={"records": body["records"][:1]}, headers=headers)
    assert other.status_code == 422


def test_readers_cannot_ingest_and_another_organisation_sees_nothing(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    body = {"records": [item(account.id)]}
    assert client.post(batch_url(org_a), json=body, headers=auth(org_a, READER)).status_code == 403
    outsider = client.post(batch_url(org_a), json=body, headers=auth(org_b, ADMIN))
    assert outsider.status_code == 404
    # In its own organisation, B's admin cannot name A's account either.
    response = client.post(batch_url(org_b), json=body, headers=auth(org_b, ADMIN))
    assert _errors(response) == [(0, "records.0.account_id", "account-not-found")]


def test_a_batch_holds_one_to_a_thousand_items(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    admin = auth(org_a, ADMIN)
    empty = client.post(batch_url(org_a), json={"records": []}, headers=admin)
    assert empty.status_code == 422
    assert empty.get_json()["errors"][0]["field"] == "records"
    full = [item(account.id, n, content=None) for n in range(1001)]
    too_many = client.post(batch_url(org_a), json={"records": full}, headers=admin)
    assert too_many.status_code == 422
    result = ingest(client, org_a, admin, full[:1000])
    assert result["created"] == 1000


def test_nul_characters_are_refused_in_text_and_in_content(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    items = [
        item(account.id, 0, source_system="crm\x00"),
        item(account.id, 1, content={"note": "a\x00b"}),
        item(account.id, 2, content={"k\x00": 1}),
        item(account.id, 3, content=None, content_ref="https://files.example/\x00"),
    ]
    response = client.post(batch_url(org_a), json={"records": items}, headers=auth(org_a, ADMIN))
    assert _errors(response) == [
        (0, "records.0.source_system", "invalid"),
        (1, "records.1.content", "invalid"),
        (2, "records.2.content", "invalid"),
        (3, "records.3.content_ref", "invalid"),
    ]
