"""Reading linked data through the API: metadata lists and filters, never content in them;
content reads audited; soft deletion; the summary; and another organisation sees nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient

from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from facito_admin.user_data import service
from facito_admin.user_data.actions import DataRecordAction
from tests.api.contracts.helpers import rfc3339
from tests.api.user_data.helpers import (
    ADMIN,
    INTEGRATION,
    PRIVACY,
    READER,
    data_url,
    events,
    ingest,
    item,
    summary_url,
)
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.audit import admin_ctx
from tests.factories.user_data import insert_records

Auth = Callable[..., dict[str, str]]


def test_the_list_shows_metadata_never_content_and_pages_by_cursor(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    ids = insert_records(runtime, org_a.id, account.id, 5)
    reader = auth(org_a, READER)
    first = client.get(data_url(org_a, account.id), query_string={"limit": 3}, headers=reader)
    body = first.get_json()
    assert [r["id"] for r in body["items"]] == [str(i) for i in ids[:3]]
    assert 'rel="next"' in first.headers["Link"]
    assert all("content" not in r for r in body["items"])
    assert body["items"][0]["has_content"] is True
    assert body["items"][0]["storage"] == {
        "subprocessor": "transip",
        "region": "transip-nl-amsterdam",
    }
    # content.files is a sensitive category, whatever the record's own flag says.
    assert body["items"][0]["sensitivity"] == {"record": False, "category": True}
    rest = client.get(
        data_url(org_a, account.id),
        query_string={"limit": 3, "cursor": body["next_cursor"]},
        headers=reader,
    ).get_json()
    assert [r["id"] for r in rest["items"]] == [str(i) for i in ids[3:]]
    assert rest["next_cursor"] is None


def test_filters_narrow_the_list_by_product_category_and_time(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    old = utcnow() - timedelta(days=30)
    insert_records(runtime, org_a.id, account.id, 2, occurred_at=old)
    insert_records(runtime, org_a.id, account.id, 1, start=10, category="usage.device")
    insert_records(runtime, org_a.id, account.id, 1, start=20, product="app-development")
    reader = auth(org_a, READER)

    def keys(**query: str) -> list[str]:
        response = client.get(data_url(org_a, account.id), query_string=query, headers=reader)
        assert response.status_code == 200, response.get_json()
        return sorted(r["external_key"] for r in response.get_json()["items"])

    assert keys(category="usage.device") == ["rec-10"]
    assert keys(product="app-development") == ["rec-20"]
    before = rfc3339(utcnow() - timedelta(days=1))
    assert keys(occurred_before=before) == ["rec-0", "rec-1"]
    assert keys(occurred_after=before) == ["rec-10", "rec-20"]
    assert (
        client.get(
            data_url(org_a, account.id), query_string={"category": "nope"}, headers=reader
        ).status_code
        == 422
    )


def test_a_record_is_read_by_id_and_soft_deleted_by_an_admin(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    [record_id] = insert_records(runtime, org_a.id, account.id)
    admin, reader = auth(org_a, ADMIN), auth(org_a, READER)
    url = data_url(org_a, account.id, f"/{record_id}")
    assert client.get(url, headers=reader).get_json()["external_key"] == "rec-0"
    assert client.delete(url, headers=reader).status_code == 403
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url, headers=admin).status_code == 404
    assert client.delete(url, headers=admin).status_code == 404
    listed = client.get(data_url(org_a, account.id), headers=admin).get_json()["items"]
    assert listed == []
    kept = client.get(
        data_url(org_a, account.id), query_string={"include_deleted": "true"}, headers=admin
    ).get_json()["items"]
    assert [r["deleted_at"] is not None for r in kept] == [True]
    assert [e.target_id for e in events(runtime, org_a, DataRecordAction.DataRecordDelete)] == [
        str(record_id)
    ]


def test_reading_content_is_audited_naming_the_reader_the_account_and_the_record(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    [record_id] = insert_records(runtime, org_a.id, account.id)
    oid = str(uuid.uuid4())
    url = data_url(org_a, account.id, f"/{record_id}/content")
    response = client.get(url, headers=auth(org_a, PRIVACY, oid=oid))
    assert response.status_code == 200
    assert response.get_json()["content"] == {"n": "0"}
    assert response.headers["Cache-Control"] == "no-store"
    [event] = events(runtime, org_a, DataRecordAction.DataContentRead)
    assert event.actor_oid == oid
    assert event.target_id == str(record_id)
    assert event.details["account_id"] == str(account.id)
    assert event.details["record_id"] == str(record_id)


def test_readers_and_integrations_never_read_content(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    [record_id] = insert_records(runtime, org_a.id, account.id)
    url = data_url(org_a, account.id, f"/{record_id}/content")
    assert client.get(url, headers=auth(org_a, READER)).status_code == 403
    assert client.get(url, headers=auth(org_a, INTEGRATION, app=True)).status_code == 403
    assert events(runtime, org_a, DataRecordAction.DataContentRead) == []


def test_a_record_under_another_account_is_not_found(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    one, other = make_account(runtime, org_a.id, 1), make_account(runtime, org_a.id, 2)
    [record_id] = insert_records(runtime, org_a.id, one.id)
    admin = auth(org_a, ADMIN)
    assert client.get(data_url(org_a, other.id, f"/{record_id}"), headers=admin).status_code == 404
    content = data_url(org_a, other.id, f"/{record_id}/content")
    assert client.get(content, headers=admin).status_code == 404
    assert client.get(data_url(org_a, uuid.uuid4()), headers=admin).status_code == 404


def test_the_summary_counts_per_product_category_and_storage(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    old = utcnow() - timedelta(days=400)
    admin = auth(org_a, ADMIN)
    ingest(
        client,
        org_a,
        admin,
        [
            item(account.id, 0, occurred_at=rfc3339(old)),
            item(account.id, 1, category="usage.device", content=None),
            item(
                account.id,
                2,
                product="app-development",
                category="usage.device",
                sensitive=True,
                storage={"subprocessor": "azure", "region": "azure-de"},
                content_ref="https://files.example/2",
                content=None,
            ),
        ],
    )
    [gone] = insert_records(runtime, org_a.id, account.id, 1, start=9)
    client.delete(data_url(org_a, account.id, f"/{gone}"), headers=admin)
    summary = client.get(summary_url(org_a, account.id), headers=auth(org_a, READER)).get_json()
    assert (summary["total"], summary["sensitive"], summary["with_content"]) == (3, 2, 1)
    assert summary["deleted"] == 1
    assert summary["products"] == [
        {"product": "app-development", "count": 1},
        {"product": "web-development", "count": 2},
    ]
    assert [(c["category"], c["sensitive"], c["count"]) for c in summary["categories"]] == [
        ("content.files", True, 1),
        ("usage.device", False, 2),
    ]
    assert [(s["region"], s["eea"], s["count"]) for s in summary["storage"]] == [
        ("azure-de", True, 1),
        ("transip-nl-amsterdam", True, 2),
    ]
    assert summary["oldest_occurred_at"] == old.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert summary["oldest_occurred_at"] < summary["newest_occurred_at"]


def test_every_record_of_an_account_is_soft_deleted_at_once_for_other_domains(
    runtime: Runtime, org_a: Org
):
    account = make_account(runtime, org_a.id, 1)
    other = make_account(runtime, org_a.id, 2)
    insert_records(runtime, org_a.id, account.id, 3)
    insert_records(runtime, org_a.id, other.id, 1, start=10)
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        ctx = admin_ctx(org_a.id)
        assert service.soft_delete_account_records(session, ctx, account_id=account.id) == 3
        assert service.soft_delete_account_records(session, ctx, account_id=account.id) == 0
    [event] = events(runtime, org_a, DataRecordAction.DataRecordsDeleteAccount)
    assert event.details == {"deleted": 3}
    with runtime.session(organisation_id=org_a.id) as session:
        assert service.data_summary(session, ctx, account_id=other.id).total == 1


def test_another_organisation_gets_404_on_every_data_route_of_organisation_a(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    [record_id] = insert_records(runtime, org_a.id, account.id)
    outsider = auth(org_b, ADMIN, PRIVACY)
    for url in (
        data_url(org_a, account.id),
        data_url(org_a, account.id, f"/{record_id}"),
        data_url(org_a, account.id, f"/{record_id}/content"),
        summary_url(org_a, account.id),
    ):
        assert client.get(url, headers=outsider).status_code == 404, url
    assert (
        client.delete(data_url(org_a, account.id, f"/{record_id}"), headers=outsider).status_code
        == 404
    )
    # B's own paths naming A's account or record find nothing either.
    for url in (
        data_url(org_b, account.id),
        data_url(org_b, account.id, f"/{record_id}/content"),
        summary_url(org_b, account.id),
    ):
        assert client.get(url, headers=outsider).status_code == 404, url
    assert events(runtime, org_b, DataRecordAction.DataContentRead) == []


def test_the_next_page_link_keeps_a_boolean_filter_as_the_query_spells_it(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account = make_account(runtime, org_a.id)
    ids = insert_records(runtime, org_a.id, account.id, 3)
    reader = auth(org_a, READER)
    first = client.get(
        data_url(org_a, account.id),
        query_string={"limit": 2, "include_deleted": "true"},
        headers=reader,
    )
    link = first.headers["Link"]
    assert "include_deleted=true" in link
    following = link.split("<", 1)[1].split(">", 1)[0].removeprefix("http://localhost")
    rest = client.get(following, headers=reader)
    assert rest.status_code == 200, rest.get_json()
    assert [r["id"] for r in rest.get_json()["items"]] == [str(ids[2])]
