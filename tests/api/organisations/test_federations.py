"""Federations: operators attach, disable and remove tenants; members read; others see nothing."""

from __future__ import annotations

import uuid

import pytest

from facito_admin.organisations.actions import OrganisationAction
from tests.api.organisations.helpers import actions, audit_trail
from tests.conftest import FACITO_TENANT, TENANT_A, TENANT_B, Org, make_organisation

NEW_TENANT = "cccccccc-0000-4000-8000-00000000000c"


def _url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/federations{suffix}"


def _federation_of(client, org: Org, operator) -> dict:
    items = client.get(_url(org), headers=operator).get_json()["items"]
    assert len(items) == 1
    return items[0]


def test_operator_attaches_a_tenant_pending_its_administrators_consent(
    client, runtime, org_a: Org, org_b: Org, operator
):
    response = client.post(
        _url(org_a),
        json={"tenant_id": NEW_TENANT.upper(), "display_name": "Contoso EU"},
        headers=operator,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["tenant_id"] == NEW_TENANT
    assert body["status"] == "pending_consent"
    assert body["consented_at"] is None
    assert body["organisation_id"] == str(org_a.id)
    assert "consent_nonce" not in body
    assert client.get(response.headers["Location"], headers=operator).get_json() == body
    assert actions(runtime, org_a.id)[-1] == OrganisationAction.FederationAttach
    assert audit_trail(runtime, org_a.id)[-1]["details"]["tenant_id"] == NEW_TENANT
    assert client.get(_url(org_b), headers=operator).get_json()["items"][0]["tenant_id"] == (
        TENANT_B
    )


def test_a_pending_federation_does_not_let_its_tenant_in(client, org_a: Org, operator, auth):
    client.post(_url(org_a), json={"tenant_id": NEW_TENANT}, headers=operator)
    response = client.get("/v1/me", headers=auth(None, "Organisation.Admin", tenant_id=NEW_TENANT))
    assert response.status_code == 401
    assert "not federated" in response.get_json()["detail"]


@pytest.mark.parametrize("tenant", [TENANT_A, TENANT_B, TENANT_B.upper()])
def test_a_tenant_belongs_to_at_most_one_organisation(
    client, runtime, org_a: Org, org_b: Org, operator, tenant: str
):
    before = actions(runtime, org_a.id)
    response = client.post(_url(org_a), json={"tenant_id": tenant}, headers=operator)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "already-exists"
    assert actions(runtime, org_a.id) == before


def test_facitos_own_tenant_can_never_be_attached(client, org_a: Org, operator):
    response = client.post(_url(org_a), json={"tenant_id": FACITO_TENANT}, headers=operator)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "tenant_id"


@pytest.mark.parametrize(
    "body",
    [
        {"tenant_id": "contoso.onmicrosoft.com"},
        {"tenant_id": "{" + NEW_TENANT + "}"},
        {},
        {"tenant_id": NEW_TENANT, "organisation_id": str(uuid.uuid4())},
        {"tenant_id": NEW_TENANT, "display_name": ""},
    ],
    ids=["domain-name", "braces", "missing", "unknown-field", "empty-name"],
)
def test_bad_attach_bodies_are_refused_with_422(client, org_a: Org, operator, body: dict):
    response = client.post(_url(org_a), json=body, headers=operator)
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation-failed"


def test_organisation_admins_read_federations_but_cannot_change_them(
    client, runtime, org_a: Org, org_b: Org, auth, operator
):
    admin = auth(org_a, "Organisation.Admin")
    listed = client.get(_url(org_a), headers=admin)
    assert listed.status_code == 200
    federation = listed.get_json()["items"][0]
    assert federation["tenant_id"] == TENANT_A
    assert client.get(_url(org_a, f"/{federation['id']}"), headers=admin).status_code == 200

    before = actions(runtime, org_a.id)
    attempts = [
        client.post(_url(org_a), json={"tenant_id": NEW_TENANT}, headers=admin),
        client.post(_url(org_a, f"/{federation['id']}/disable"), headers=admin),
        client.post(_url(org_a, f"/{federation['id']}/admin-consent"), headers=admin),
        client.delete(_url(org_a, f"/{federation['id']}"), headers=admin),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert attempts[0].get_json()["missing_permissions"] == ["org:federations:write"]
    assert actions(runtime, org_a.id) == before
    assert client.get(_url(org_b), headers=auth(org_b, "Organisation.Reader")).status_code == 200
    assert client.get(_url(org_a), headers=auth(org_a)).status_code == 403  # employee


def test_another_organisation_gets_404_on_every_federation_route(
    client, runtime, org_a: Org, org_b: Org, auth, operator
):
    federation_id = _federation_of(client, org_a, operator)["id"]
    before = actions(runtime, org_a.id)
    for headers in (auth(org_b, "Organisation.Admin"), auth(org_b, "Organisation.Admin", app=True)):
        responses = [
            client.get(_url(org_a), headers=headers),
            client.post(_url(org_a), json={"tenant_id": NEW_TENANT}, headers=headers),
            client.get(_url(org_a, f"/{federation_id}"), headers=headers),
            client.delete(_url(org_a, f"/{federation_id}"), headers=headers),
            client.post(_url(org_a, f"/{federation_id}/disable"), headers=headers),
            client.post(_url(org_a, f"/{federation_id}/admin-consent"), headers=headers),
        ]
        assert [r.status_code for r in responses] == [404] * 6
        assert {r.get_json()["code"] for r in responses} == {"not-found"}
    # Nor is org A's federation reachable through org B's own path.
    own_path = client.get(_url(org_b, f"/{federation_id}"), headers=operator)
    assert own_path.status_code == 404
    assert actions(runtime, org_a.id) == before


def test_an_unknown_organisation_or_federation_is_404_for_operators(client, org_a: Org, operator):
    nowhere = Org(uuid.uuid4(), "nowhere", "")
    assert client.get(_url(nowhere), headers=operator).status_code == 404
    response = client.post(_url(nowhere), json={"tenant_id": NEW_TENANT}, headers=operator)
    assert response.status_code == 404
    assert client.get(_url(org_a, f"/{uuid.uuid4()}"), headers=operator).status_code == 404
    assert client.delete(_url(org_a, f"/{uuid.uuid4()}"), headers=operator).status_code == 404


def test_disabling_a_federation_refuses_its_tokens_at_once(
    client, runtime, org_a: Org, org_b: Org, auth, operator
):
    federation_id = _federation_of(client, org_a, operator)["id"]
    assert client.get("/v1/me", headers=auth(org_a, "Organisation.Admin")).status_code == 200
    response = client.post(_url(org_a, f"/{federation_id}/disable"), headers=operator)
    assert response.status_code == 200
    assert response.get_json()["status"] == "disabled"
    assert client.get("/v1/me", headers=auth(org_a, "Organisation.Admin")).status_code == 401
    assert client.get("/v1/me", headers=auth(org_b, "Organisation.Admin")).status_code == 200
    event = audit_trail(runtime, org_a.id)[-1]
    assert (event["action"], event["actor_kind"], event["target_id"]) == (
        OrganisationAction.FederationDisable,
        "facito_staff",
        federation_id,
    )
    assert event["details"] == {"tenant_id": TENANT_A, "from": "active"}
    again = client.post(_url(org_a, f"/{federation_id}/disable"), headers=operator)
    assert again.status_code == 409
    assert again.get_json()["code"] == "invalid-state"


def test_removing_a_federation_refuses_its_tokens_at_once(
    client, runtime, org_a: Org, org_b: Org, auth, operator
):
    federation_id = _federation_of(client, org_a, operator)["id"]
    before = len(actions(runtime, org_a.id))
    response = client.delete(_url(org_a, f"/{federation_id}"), headers=operator)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert client.get("/v1/me", headers=auth(org_a, "Organisation.Admin")).status_code == 401
    assert client.get("/v1/me", headers=auth(org_b, "Organisation.Admin")).status_code == 200
    assert client.get(_url(org_a, f"/{federation_id}"), headers=operator).status_code == 404
    trail = audit_trail(runtime, org_a.id)
    assert len(trail) == before + 1
    assert trail[-1]["action"] == OrganisationAction.FederationRemove
    assert trail[-1]["target_id"] == federation_id
    # The tenant is free again, for this or another organisation.
    again = client.post(_url(org_b), json={"tenant_id": TENANT_A}, headers=operator)
    assert again.status_code == 201


def test_federations_are_listed_in_keyset_pages(client, org_a: Org, operator):
    for n in range(3):
        tenant = f"cccccccc-0000-4000-8000-00000000000{n}"
        assert (
            client.post(_url(org_a), json={"tenant_id": tenant}, headers=operator).status_code
            == 201
        )
    first = client.get(_url(org_a) + "?limit=2", headers=operator)
    page = first.get_json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    assert 'rel="next"' in first.headers["Link"]
    rest = client.get(_url(org_a) + f"?limit=2&cursor={page['next_cursor']}", headers=operator)
    assert len(rest.get_json()["items"]) == 2
    assert rest.get_json()["next_cursor"] is None
    seen = [f["tenant_id"] for f in page["items"] + rest.get_json()["items"]]
    assert seen[0] == TENANT_A
    assert len(set(seen)) == 4
    pending = client.get(_url(org_a) + "?status=pending_consent", headers=operator).get_json()
    assert len(pending["items"]) == 3


def test_an_offboarded_organisation_cannot_attach_tenants(client, runtime, operator):
    org = make_organisation(runtime, "leaving", None)
    client.post(f"/v1/organisations/{org.id}/offboard", json={}, headers=operator)
    response = client.post(_url(org), json={"tenant_id": NEW_TENANT}, headers=operator)
    assert response.status_code == 409
    assert response.get_json()["code"] == "invalid-state"
