"""A verified e-mail domain is its organisation's alone: nobody else creates or renames an
account into it (SCIM: tests/api/scim/test_scim_domains.py); its own organisation, and
unverified claims, are free."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from facito_admin.tenants.models import DomainStatus
from tests.conftest import Org
from tests.factories.domains import add_domain, require_verified_domains

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"


def _create(client: FlaskClient, org: Org, headers: dict[str, str], **fields: Any) -> Any:
    body = {"user_principal_name": "bob@orga.example", "display_name": "Bob"} | fields
    return client.post(f"/v1/organisations/{org.id}/accounts", json=body, headers=headers)


def test_an_account_in_another_organisations_verified_domain_is_refused(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    add_domain(runtime, org_b, "orgb.example")
    admin = auth(org_a, ADMIN)
    for fields in (
        {"user_principal_name": "bob@orgb.example"},
        {"user_principal_name": "bob@EU.OrgB.example"},
        {"email": "bob@orgb.example"},
    ):
        response = _create(client, org_a, admin, **fields)
        assert response.status_code == 422, (fields, response.get_json())
        problem = response.get_json()
        assert problem["code"] == "domain-of-another-organisation"
        assert "orgb.example" in str(problem)
    listed = client.get(f"/v1/organisations/{org_a.id}/accounts", headers=admin).get_json()
    assert listed["items"] == []


def test_the_owner_and_unverified_claims_are_free_to_use_a_domain(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    add_domain(runtime, org_b, "orgb.example")
    add_domain(runtime, org_b, "pending.example", DomainStatus.pending)
    assert (
        _create(
            client, org_b, auth(org_b, ADMIN), user_principal_name="bob@orgb.example"
        ).status_code
        == 201
    )
    assert (
        _create(
            client, org_a, auth(org_a, ADMIN), user_principal_name="eve@pending.example"
        ).status_code
        == 201
    )
    # A look-alike is another domain.
    assert (
        _create(
            client, org_a, auth(org_a, ADMIN), user_principal_name="eve@notorgb.example"
        ).status_code
        == 201
    )


def test_renaming_an_account_into_another_organisations_domain_is_refused(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    add_domain(runtime, org_b, "orgb.example")
    admin = auth(org_a, ADMIN)
    created = _create(client, org_a, admin)
    assert created.status_code == 201
    response = client.patch(
        f"/v1/organisations/{org_a.id}/accounts/{created.get_json()['id']}",
        json={"email": "bob@orgb.example"},
        headers=admin | {"If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "domain-of-another-organisation"


def test_an_organisation_requiring_its_verified_domains_creates_accounts_only_inside_them(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    add_domain(runtime, org_a, "orga.example")
    add_domain(runtime, org_a, "claimed.example", DomainStatus.pending)
    require_verified_domains(runtime, org_a)
    admin = auth(org_a, ADMIN)
    assert _create(client, org_a, admin).status_code == 201
    inside = _create(client, org_a, admin, user_principal_name="ann@eu.orga.example")
    assert inside.status_code == 201, inside.get_json()
    for fields in (
        {"user_principal_name": "eve@elsewhere.example"},
        {"user_principal_name": "eve@claimed.example"},  # claimed, not verified
        {"user_principal_name": "eve@orga.example", "email": "eve@elsewhere.example"},
    ):
        response = _create(client, org_a, admin, **fields)
        assert response.status_code == 422, (fields, response.get_json())
        problem = response.get_json()
        assert problem["code"] == "domain-not-verified"
        assert "not one of the organisation's verified domains" in problem["detail"]
    # The policy is org A's: org B, without it, uses any unclaimed domain.
    elsewhere = _create(
        client, org_b, auth(org_b, ADMIN), user_principal_name="eve@elsewhere.example"
    )
    assert elsewhere.status_code == 201


def test_an_organisation_requiring_its_verified_domains_cannot_rename_an_account_out_of_them(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    add_domain(runtime, org_a, "orga.example")
    admin = auth(org_a, ADMIN)
    created = _create(client, org_a, admin)
    require_verified_domains(runtime, org_a)
    url = f"/v1/organisations/{org_a.id}/accounts/{created.get_json()['id']}"
    refused = client.patch(
        url,
        json={"email": "bob@elsewhere.example"},
        headers=admin | {"If-Match": created.headers["ETag"]},
    )
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "domain-not-verified"
    assert [e["field"] for e in refused.get_json()["errors"]] == ["email"]
    renamed = client.patch(
        url,
        json={"display_name": "Bob B."},
        headers=admin | {"If-Match": created.headers["ETag"]},
    )
    assert renamed.status_code == 200, renamed.get_json()


def test_the_policy_is_off_by_default_and_shown_in_the_effective_policy(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    admin = auth(org_a, ADMIN)
    policy = client.get(f"/v1/organisations/{org_a.id}/effective-policy", headers=admin).get_json()
    assert policy["values"]["accounts.verified_domains_only"]["value"] is False
    assert (
        _create(client, org_a, admin, user_principal_name="eve@elsewhere.example").status_code
        == 201
    )
    require_verified_domains(runtime, org_a)
    policy = client.get(f"/v1/organisations/{org_a.id}/effective-policy", headers=admin).get_json()
    assert policy["values"]["accounts.verified_domains_only"]["value"] is True


def test_the_policy_requires_nothing_of_an_organisation_that_verified_no_domain_yet(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    """Onboarding: before its first domain is verified there is nothing to require."""
    add_domain(runtime, org_a, "orga.example", DomainStatus.pending)
    require_verified_domains(runtime, org_a)
    created = _create(client, org_a, auth(org_a, ADMIN), user_principal_name="eve@any.example")
    assert created.status_code == 201, created.get_json()
