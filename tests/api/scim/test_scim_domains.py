"""SCIM provisions no user into a domain another organisation verified."""

from __future__ import annotations

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from tests.api.scim.conftest import Headers, create_user, new_user, patch
from tests.conftest import Org
from tests.factories.domains import add_domain, require_verified_domains


def test_scim_cannot_provision_a_user_into_another_organisations_domain(
    client: FlaskClient, runtime: Runtime, org_b: Org, scim_a: Headers
):
    add_domain(runtime, org_b, "orgb.example")
    refused = client.post("/scim/v2/Users", json=new_user("bob@orgb.example"), headers=scim_a)
    assert refused.status_code == 400, refused.get_json()
    assert "orgb.example is verified by another organisation" in refused.get_json()["detail"]
    created = create_user(client, scim_a, "bob@orga.example")
    renamed = client.patch(
        f"/scim/v2/Users/{created['id']}",
        json=patch({"op": "replace", "path": "userName", "value": "bob@orgb.example"}),
        headers=scim_a,
    )
    assert renamed.status_code == 400, renamed.get_json()
    listed = client.get("/scim/v2/Users", headers=scim_a).get_json()
    assert [u["userName"] for u in listed["Resources"]] == ["bob@orga.example"]


def test_scim_provisions_only_into_the_verified_domains_an_organisation_requires(
    client: FlaskClient, runtime: Runtime, org_a: Org, scim_a: Headers, scim_b: Headers
):
    add_domain(runtime, org_a, "orga.example")
    require_verified_domains(runtime, org_a)
    refused = client.post("/scim/v2/Users", json=new_user("eve@elsewhere.example"), headers=scim_a)
    assert refused.status_code == 400, refused.get_json()
    assert (
        "elsewhere.example is not one of the organisation's verified domains"
        in (refused.get_json()["detail"])
    )
    created = create_user(client, scim_a, "bob@orga.example")
    url = f"/scim/v2/Users/{created['id']}"
    patched = client.patch(
        url,
        json=patch({"op": "replace", "path": "userName", "value": "bob@elsewhere.example"}),
        headers=scim_a,
    )
    assert patched.status_code == 400, patched.get_json()
    replaced = client.put(url, json=new_user("bob@elsewhere.example"), headers=scim_a)
    assert replaced.status_code == 400, replaced.get_json()
    listed = client.get("/scim/v2/Users", headers=scim_a).get_json()
    assert [u["userName"] for u in listed["Resources"]] == ["bob@orga.example"]
    # Organisation B has no such policy.
    assert (
        create_user(client, scim_b, "eve@elsewhere.example")["userName"] == "eve@elsewhere.example"
    )
