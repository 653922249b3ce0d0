from tests.api.scim.conftest import SCIM, SCIM_JSON, new_user, patch


def test_smoke(client, scim_a, org_a):
    r = client.post(f"{SCIM}/Users", json=new_user(), headers=scim_a)
    print(r.status_code, r.headers, r.json)
    uid = r.json["id"]
    r = client.get(f"{SCIM}/Users?filter=userName eq \"BJENSEN@example.com\"", headers=scim_a)
    print(r.status_code, r.json)
    r = client.patch(f"{SCIM}/Users/{uid}", json=patch({"op": "Replace", "value": {"displayName": "x", "name.givenName": "y", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "z", "active": "False"}}), headers=scim_a)
    print(r.status_code, r.json)
    r = client.post(f"{SCIM}/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": uid}]}, headers=scim_a)
    print(r.status_code, r.json)
    gid = r.json["id"]
    r = client.patch(f"{SCIM}/Groups/{gid}", json=patch({"op": "Remove", "path": f'members[value eq "{uid}"]'}), headers=scim_a)
    print(r.status_code, r.data)
    r = client.get(f"{SCIM}/Groups/{gid}", headers=scim_a)
    print(r.status_code, r.json)
    r = client.get(f"{SCIM}/Schemas", headers=scim_a)
    print(r.status_code, str(r.json)[:300])
    r = client.get(f"{SCIM}/Nope", headers=scim_a)
    print(r.status_code, r.headers["Content-Type"], r.json)
    r = client.get(f"{SCIM}/Users", headers={"Authorization": "Bearer nope"})
    print(r.status_code, r.headers, r.json)
    r = client.delete(f"{SCIM}/Users/{uid}", headers=scim_a)
    print(r.status_code, r.data)
    r = client.get(f"/v1/organisations/{org_a.id}/scim-tokens", headers=scim_a)
    print(r.status_code, r.json)
    assert 0
