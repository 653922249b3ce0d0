"""Operators onboard and run organisations; members read only their own."""

from __future__ import annotations

import uuid

from tests.conftest import Org

NEW = {
    "slug": "acme",
    "name": "Acme B.V.",
    "primary_region": "azure-nl",
    "backup_region": "azure-de",
}


def test_operator_onboards_an_organisation_with_location_etag_and_audit_event(client, operator):
    created = client.post("/v1/organisations", json=NEW, headers=operator)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["slug"] == "acme"
    assert body["status"] == "active"
    assert created.headers["Location"].endswith(f"/v1/organisations/{body['id']}")
    assert created.headers["ETag"]
    read = client.get(created.headers["Location"], headers=operator)
    assert read.status_code == 200
    assert read.headers["ETag"] == created.headers["ETag"]
    assert uuid.UUID(body["id"]).version == 7


def test_slugs_are_unique(client, operator):
    assert client.post("/v1/organisations", json=NEW, headers=operator).status_code == 201
    again = client.post("/v1/organisations", json={**NEW, "slug": "ACME"}, headers=operator)
    assert again.status_code == 409
    assert again.get_json()["code"] == "already-exists"


def test_residency_must_name_known_and_different_regions(client, operator):
    same = client.post(
        "/v1/organisations", json={**NEW, "backup_region": "azure-nl"}, headers=operator
    )
    assert same.status_code == 422
    assert same.get_json()["errors"] == [
        {"field": "backup_region", "location": "json", "message": "must differ from primary_region"}
    ]
    unknown = client.post(
        "/v1/organisations", json={**NEW, "primary_region": "mars-1"}, headers=operator
    )
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "primary_region"
    nothing_written = client.get("/v1/organisations", headers=operator).get_json()
    assert nothing_written["items"] == []


def test_organisation_admins_cannot_onboard_or_list(client, org_a: Org, auth):
    admin = auth(org_a, "Organisation.Admin")
    assert client.post("/v1/organisations", json=NEW, headers=admin).status_code == 403
    assert client.get("/v1/organisations", headers=admin).status_code == 403


def test_members_read_their_own_organisation_and_never_another(
    client, org_a: Org, org_b: Org, auth
):
    reader = auth(org_a, "Organisation.Reader")
    own = client.get(f"/v1/organisations/{org_a.id}", headers=reader)
    assert own.status_code == 200
    assert own.get_json()["slug"] == "org-a"
    other = client.get(f"/v1/organisations/{org_b.id}", headers=reader)
    assert other.status_code == 404
    assert other.get_json()["code"] == "not-found"
    missing = client.get(f"/v1/organisations/{uuid.uuid4()}", headers=reader)
    assert missing.get_json() | {"request_id": None, "instance": None} == other.get_json() | {
        "request_id": None,
        "instance": None,
    }


def test_employees_without_admin_role_cannot_read_the_profile(client, org_a: Org, auth):
    employee = auth(org_a)
    assert client.get("/v1/me", headers=employee).get_json()["kind"] == "employee"
    assert client.get(f"/v1/organisations/{org_a.id}", headers=employee).status_code == 403


def test_update_needs_the_current_etag(client, org_a: Org, operator):
    path = f"/v1/organisations/{org_a.id}"
    etag = client.get(path, headers=operator).headers["ETag"]
    missing = client.patch(path, json={"name": "A2"}, headers=operator)
    assert missing.status_code == 428
    updated = client.patch(path, json={"name": "A2"}, headers={**operator, "If-Match": etag})
    assert updated.status_code == 200
    assert updated.get_json()["name"] == "A2"
    assert updated.headers["ETag"] != etag
    stale = client.patch(path, json={"name": "A3"}, headers={**operator, "If-Match": etag})
    assert stale.status_code == 412
    assert client.get(path, headers=operator).get_json()["name"] == "A2"


def test_update_validates_the_resulting_residency(client, org_a: Org, operator):
    path = f"/v1/organisations/{org_a.id}"
    etag = client.get(path, headers=operator).headers["ETag"]
    clash = client.patch(
        path, json={"backup_region": "transip-nl-amsterdam"}, headers={**operator, "If-Match": etag}
    )
    assert clash.status_code == 422
    unknown_field = client.patch(
        path, json={"slug": "renamed"}, headers={**operator, "If-Match": etag}
    )
    assert unknown_field.status_code == 422
    assert client.get(path, headers=operator).headers["ETag"] == etag


def test_suspend_reactivate_and_offboard_follow_the_lifecycle(client, org_a: Org, operator):
    base = f"/v1/organisations/{org_a.id}"
    assert client.post(f"{base}/reactivate", json={}, headers=operator).status_code == 409
    suspended = client.post(f"{base}/suspend", json={"reason": "invoice overdue"}, headers=operator)
    assert suspended.get_json()["status"] == "suspended"
    assert suspended.get_json()["status_reason"] == "invoice overdue"
    assert (
        client.post(f"{base}/reactivate", json={}, headers=operator).get_json()["status"]
        == "active"
    )
    offboarded = client.post(
        f"{base}/offboard", json={"reason": "contract ended"}, headers=operator
    )
    assert offboarded.get_json()["status"] == "offboarded"
    assert client.post(f"{base}/suspend", json={}, headers=operator).status_code == 409
    filtered = client.get("/v1/organisations?status=offboarded", headers=operator).get_json()
    assert [o["id"] for o in filtered["items"]] == [str(org_a.id)]


def test_list_pages_with_cursor_and_link_header(client, operator, runtime):
    from tests.conftest import make_organisation

    ids = [str(make_organisation(runtime, f"org-{i:02d}", None).id) for i in range(5)]
    first = client.get("/v1/organisations?limit=2", headers=operator)
    page = first.get_json()
    assert [o["id"] for o in page["items"]] == ids[:2]
    assert 'rel="next"' in first.headers["Link"]
    seen = [o["id"] for o in page["items"]]
    while page["next_cursor"]:
        page = client.get(
            f"/v1/organisations?limit=2&cursor={page['next_cursor']}", headers=operator
        ).get_json()
        seen += [o["id"] for o in page["items"]]
    assert seen == ids
    bad = client.get("/v1/organisations?cursor=not-a-cursor", headers=operator)
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["field"] == "cursor"


def test_regions_and_subprocessors_come_from_the_statement(client, org_a: Org, auth):
    headers = auth(org_a, "Organisation.Reader")
    regions = {r["code"]: r for r in client.get("/v1/regions", headers=headers).get_json()}
    assert regions["transip-nl-delft"]["eea"] is True
    assert regions["azure-us"]["eea"] is False
    assert regions["azure-gb"]["eea"] is False
    assert len([r for r in regions.values() if r["subprocessor"] == "azure"]) == 20
    codes = {s["code"] for s in client.get("/v1/subprocessors", headers=headers).get_json()}
    assert codes == {"transip", "azure"}
