"""SCIM provisions no user into a domain another organisation verified."""

from __future__ import annotations

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from tests.api.scim.conftest import Headers, create_user, new_user, patch
from tests.conftest import Org
from tests.factories.domains import add_domain


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
