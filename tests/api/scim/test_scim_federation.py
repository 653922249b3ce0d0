"""A SCIM token provisions its organisation only while the organisation has an active
federation: disabling or removing the last one answers 401, an active one again restores the
same token (tokens are not revoked); other organisations are unaffected."""

from __future__ import annotations

from sqlalchemy import select

from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Federation, FederationStatus
from tests.api.scim.conftest import SCIM, Headers, create_user
from tests.conftest import Org

SCIM_JSON = "application/scim+json"


def _federation_id(runtime: Runtime, org: Org) -> str:
    with runtime.session() as session:
        return str(
            session.scalar(select(Federation.id).where(Federation.organisation_id == org.id))
        )


def _set_status(runtime: Runtime, org: Org, status: FederationStatus) -> None:
    """What a completed admin consent does to a disabled federation (organisations/federations)."""
    with runtime.session(write=True) as session, session.begin():
        federation = session.scalar(select(Federation).where(Federation.organisation_id == org.id))
        assert federation is not None
        federation.status = status


def _assert_no_federation(response) -> None:
    assert response.status_code == 401, response.json
    assert response.headers["Content-Type"] == SCIM_JSON
    assert response.json["status"] == "401"
    assert "organisation has no active federation" in response.json["detail"]


def test_disabling_the_organisations_federation_stops_its_scim_tokens_until_it_is_active(
    client, runtime: Runtime, org_a: Org, org_b: Org, operator, scim_a: Headers, scim_b: Headers
):
    create_user(client, scim_a, "before@orga.example")
    disabled = client.post(
        f"/v1/organisations/{org_a.id}/federations/{_federation_id(runtime, org_a)}/disable",
        headers=operator,
    )
    assert disabled.status_code == 200, disabled.get_json()
    _assert_no_federation(client.get(f"{SCIM}/Users", headers=scim_a))
    refused = client.post(
        f"{SCIM}/Users",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x@a.example"},
        headers=scim_a,
    )
    _assert_no_federation(refused)
    # Organisation B's federation and token are untouched.
    assert client.get(f"{SCIM}/Users", headers=scim_b).status_code == 200
    _set_status(runtime, org_a, FederationStatus.active)
    listed = client.get(f"{SCIM}/Users", headers=scim_a)
    assert listed.status_code == 200
    assert [u["userName"] for u in listed.json["Resources"]] == ["before@orga.example"]


def test_removing_the_last_federation_stops_the_scim_tokens(
    client, runtime: Runtime, org_a: Org, org_b: Org, operator, scim_a: Headers, scim_b: Headers
):
    removed = client.delete(
        f"/v1/organisations/{org_a.id}/federations/{_federation_id(runtime, org_a)}",
        headers=operator,
    )
    assert removed.status_code == 204, removed.get_json()
    _assert_no_federation(client.get(f"{SCIM}/Users", headers=scim_a))
    assert client.get(f"{SCIM}/Users", headers=scim_b).status_code == 200


def test_a_federation_awaiting_consent_does_not_provision(
    client, runtime: Runtime, org_a: Org, scim_a: Headers
):
    _set_status(runtime, org_a, FederationStatus.pending_consent)
    _assert_no_federation(client.get(f"{SCIM}/Users", headers=scim_a))
