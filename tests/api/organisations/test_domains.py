"""E-mail domains: claim, verify by a DNS TXT record (a real UDP server on 127.0.0.1), remove."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from facito_admin.app import create_app
from facito_admin.config import Settings, load_settings
from facito_admin.organisations.actions import OrganisationAction
from facito_admin.runtime import Runtime
from tests.api.organisations.helpers import actions, audit_trail
from tests.conftest import Org
from tests.fakes.dns import FakeDns

RECORD = "_facito-verification.example.com"


@pytest.fixture(scope="module")
def fake_dns() -> Iterator[FakeDns]:
    server = FakeDns()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dns_app(settings: Settings, fake_dns: FakeDns) -> Iterator[Flask]:
    app = create_app(
        load_settings(
            settings.model_dump()
            | {"dns_nameservers": fake_dns.address, "dns_timeout_seconds": 0.3}
        )
    )
    yield app
    app.extensions["facito"].database.dispose()


@pytest.fixture
def web(dns_app: Flask, fake_dns: FakeDns, runtime: Runtime) -> FlaskClient:
    fake_dns.reset()
    return dns_app.test_client()


def _url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/domains{suffix}"


def _claim(web: FlaskClient, org: Org, headers, domain: str = "example.com") -> dict:
    response = web.post(_url(org), json={"domain": domain}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_claiming_a_domain_returns_the_txt_record_to_create(
    web, runtime, org_a: Org, org_b: Org, auth
):
    admin = auth(org_a, "Organisation.Admin")
    response = web.post(_url(org_a), json={"domain": " Example.COM. "}, headers=admin)
    assert response.status_code == 201
    claim = response.get_json()
    assert claim["domain"] == "example.com"
    assert claim["status"] == "pending"
    assert claim["verified_at"] is None
    assert len(claim["verification_token"]) >= 32
    assert claim["txt_record"] == {
        "name": RECORD,
        "type": "TXT",
        "value": f"facito-verification={claim['verification_token']}",
    }
    assert web.get(response.headers["Location"], headers=admin).get_json() == claim
    assert audit_trail(runtime, org_a.id)[-1]["action"] == OrganisationAction.DomainClaim
    assert audit_trail(runtime, org_a.id)[-1]["details"] == {"domain": "example.com"}
    listed = web.get(_url(org_b), headers=auth(org_b, "Organisation.Admin")).get_json()
    assert listed["items"] == []


def test_international_domains_are_stored_in_their_ascii_form(web, org_a: Org, auth):
    claim = _claim(web, org_a, auth(org_a, "Organisation.Admin"), "Bücher.Example")
    assert claim["domain"] == "xn--bcher-kva.example"
    assert claim["txt_record"]["name"] == "_facito-verification.xn--bcher-kva.example"


@pytest.mark.parametrize(
    "domain",
    [
        "localhost",
        "exa mple.com",
        "-bad.example",
        "a..example",
        "user@example.com",
        "1.2.3.4",
        "under_score.example",
        "x" * 64 + ".example",
        "",
    ],
)
def test_a_domain_that_is_not_a_hostname_is_refused_with_422(web, org_a: Org, auth, domain):
    response = web.post(
        _url(org_a), json={"domain": domain}, headers=auth(org_a, "Organisation.Admin")
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "domain"


def test_an_organisation_claims_a_domain_once(web, runtime, org_a: Org, auth):
    admin = auth(org_a, "Organisation.Admin")
    _claim(web, org_a, admin)
    before = actions(runtime, org_a.id)
    again = web.post(_url(org_a), json={"domain": "EXAMPLE.com"}, headers=admin)
    assert again.status_code == 409
    assert again.get_json()["code"] == "already-exists"
    assert actions(runtime, org_a.id) == before


def test_a_domain_is_verified_when_its_txt_record_carries_the_token(
    web, runtime, fake_dns: FakeDns, org_a: Org, org_b: Org, auth
):
    admin = auth(org_a, "Organisation.Admin")
    claim = _claim(web, org_a, admin)
    fake_dns.txt[RECORD] = ["v=spf1 -all", claim["txt_record"]["value"]]
    response = web.post(_url(org_a, f"/{claim['id']}/verify"), headers=admin)
    assert response.status_code == 200, response.get_json()
    verified = response.get_json()
    assert verified["status"] == "verified"
    assert verified["verified_at"] is not None
    assert fake_dns.queries == [RECORD]
    trail = audit_trail(runtime, org_a.id)
    assert trail[-1]["action"] == OrganisationAction.DomainVerify
    assert trail[-1]["target_id"] == claim["id"]

    # Verifying again changes nothing but leaves its audit event, without asking DNS again.
    again = web.post(_url(org_a, f"/{claim['id']}/verify"), headers=admin)
    assert again.status_code == 200
    assert again.get_json()["verified_at"] == verified["verified_at"]
    assert fake_dns.queries == [RECORD]
    recheck = audit_trail(runtime, org_a.id)
    assert len(recheck) == len(trail) + 1
    assert recheck[-1]["details"]["already_verified"] is True
    assert web.get(_url(org_b), headers=auth(org_b, "Organisation.Admin")).get_json()["items"] == []


@pytest.mark.parametrize(
    ("records", "detail"),
    [
        ({RECORD: ["facito-verification=someone-elses-token"]}, "carries this token"),
        ({}, "no TXT record"),
        ({RECORD: []}, "no TXT record"),
        ({"example.com": ["facito-verification=misplaced"]}, "no TXT record"),
    ],
    ids=["wrong-token", "nxdomain", "no-txt", "record-at-apex"],
)
def test_a_domain_without_its_token_in_dns_stays_pending(
    web, runtime, fake_dns: FakeDns, org_a: Org, auth, records: dict, detail: str
):
    admin = auth(org_a, "Organisation.Admin")
    claim = _claim(web, org_a, admin)
    fake_dns.txt.update(records)
    before = actions(runtime, org_a.id)
    response = web.post(_url(org_a, f"/{claim['id']}/verify"), headers=admin)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "domain-not-verified"
    assert detail in problem["detail"]
    assert problem["record_name"] == RECORD
    assert problem["record_value"] == claim["txt_record"]["value"]
    assert web.get(_url(org_a, f"/{claim['id']}"), headers=admin).get_json()["status"] == "pending"
    assert actions(runtime, org_a.id) == before


def test_a_dns_timeout_is_an_upstream_failure(web, runtime, fake_dns: FakeDns, org_a: Org, auth):
    admin = auth(org_a, "Organisation.Admin")
    claim = _claim(web, org_a, admin)
    fake_dns.silent.add(RECORD)
    response = web.post(_url(org_a, f"/{claim['id']}/verify"), headers=admin)
    assert response.status_code == 502
    assert response.get_json()["code"] == "upstream-failed"
    assert web.get(_url(org_a, f"/{claim['id']}"), headers=admin).get_json()["status"] == "pending"


def test_a_domain_verified_by_another_organisation_cannot_be_verified_again(
    web, runtime, fake_dns: FakeDns, org_a: Org, org_b: Org, auth
):
    admin_a, admin_b = auth(org_a, "Organisation.Admin"), auth(org_b, "Organisation.Admin")
    claim_a = _claim(web, org_a, admin_a)
    claim_b = _claim(web, org_b, admin_b)  # claims are private to each organisation
    fake_dns.txt[RECORD] = [claim_a["txt_record"]["value"], claim_b["txt_record"]["value"]]
    assert web.post(_url(org_a, f"/{claim_a['id']}/verify"), headers=admin_a).status_code == 200

    before = actions(runtime, org_b.id)
    response = web.post(_url(org_b, f"/{claim_b['id']}/verify"), headers=admin_b)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["code"] == "domain-unavailable"
    assert str(org_a.id) not in response.get_data(as_text=True)
    assert org_a.slug not in response.get_data(as_text=True)
    assert web.get(_url(org_b, f"/{claim_b['id']}"), headers=admin_b).get_json()["status"] == (
        "pending"
    )
    assert actions(runtime, org_b.id) == before


def test_the_dns_proof_comes_before_revealing_that_another_organisation_holds_a_domain(
    web, fake_dns: FakeDns, org_a: Org, org_b: Org, auth
):
    admin_a, admin_b = auth(org_a, "Organisation.Admin"), auth(org_b, "Organisation.Admin")
    claim_a = _claim(web, org_a, admin_a)
    claim_b = _claim(web, org_b, admin_b)
    fake_dns.txt[RECORD] = [claim_a["txt_record"]["value"]]
    assert web.post(_url(org_a, f"/{claim_a['id']}/verify"), headers=admin_a).status_code == 200
    response = web.post(_url(org_b, f"/{claim_b['id']}/verify"), headers=admin_b)
    assert response.get_json()["code"] == "domain-not-verified"


def test_removing_a_domain_is_audited_and_frees_it(
    web, runtime, fake_dns: FakeDns, org_a: Org, org_b: Org, auth
):
    admin_a, admin_b = auth(org_a, "Organisation.Admin"), auth(org_b, "Organisation.Admin")
    claim_a = _claim(web, org_a, admin_a)
    fake_dns.txt[RECORD] = [claim_a["txt_record"]["value"]]
    web.post(_url(org_a, f"/{claim_a['id']}/verify"), headers=admin_a)
    before = len(actions(runtime, org_a.id))
    response = web.delete(_url(org_a, f"/{claim_a['id']}"), headers=admin_a)
    assert response.status_code == 204
    assert web.get(_url(org_a, f"/{claim_a['id']}"), headers=admin_a).status_code == 404
    trail = audit_trail(runtime, org_a.id)
    assert len(trail) == before + 1
    assert trail[-1]["action"] == OrganisationAction.DomainRemove
    assert trail[-1]["details"] == {"domain": "example.com", "status": "verified"}

    claim_b = _claim(web, org_b, admin_b)
    fake_dns.txt[RECORD] = [claim_b["txt_record"]["value"]]
    assert web.post(_url(org_b, f"/{claim_b['id']}/verify"), headers=admin_b).status_code == 200


def test_another_organisation_gets_404_on_every_domain_route(
    web, runtime, org_a: Org, org_b: Org, auth
):
    claim = _claim(web, org_a, auth(org_a, "Organisation.Admin"))
    before = actions(runtime, org_a.id)
    for headers in (auth(org_b, "Organisation.Admin"), auth(org_b, "Organisation.Reader")):
        responses = [
            web.get(_url(org_a), headers=headers),
            web.post(_url(org_a), json={"domain": "other.example"}, headers=headers),
            web.get(_url(org_a, f"/{claim['id']}"), headers=headers),
            web.delete(_url(org_a, f"/{claim['id']}"), headers=headers),
            web.post(_url(org_a, f"/{claim['id']}/verify"), headers=headers),
        ]
        assert [r.status_code for r in responses] == [404] * 5
    own_path = web.get(_url(org_b, f"/{claim['id']}"), headers=auth(org_b, "Organisation.Admin"))
    assert own_path.status_code == 404
    assert actions(runtime, org_a.id) == before


def test_readers_read_domains_and_operators_manage_them(web, runtime, org_a: Org, auth, operator):
    claim = _claim(web, org_a, operator)
    reader = auth(org_a, "Organisation.Reader")
    assert web.get(_url(org_a), headers=reader).get_json()["items"][0]["id"] == claim["id"]
    refused = [
        web.post(_url(org_a), json={"domain": "other.example"}, headers=reader),
        web.post(_url(org_a, f"/{claim['id']}/verify"), headers=reader),
        web.delete(_url(org_a, f"/{claim['id']}"), headers=reader),
        web.get(_url(org_a), headers=auth(org_a)),  # an employee without admin role
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert web.get(_url(org_a, f"/{uuid.uuid4()}"), headers=reader).status_code == 404
    assert web.delete(_url(org_a, f"/{claim['id']}"), headers=operator).status_code == 204


def test_domains_are_listed_in_keyset_pages(web, org_a: Org, auth):
    admin = auth(org_a, "Organisation.Admin")
    for n in range(3):
        _claim(web, org_a, admin, f"d{n}.example")
    first = web.get(_url(org_a) + "?limit=2", headers=admin).get_json()
    rest = web.get(_url(org_a) + f"?limit=2&cursor={first['next_cursor']}", headers=admin)
    domains = [d["domain"] for d in first["items"] + rest.get_json()["items"]]
    assert domains == ["d0.example", "d1.example", "d2.example"]
    pending = web.get(_url(org_a) + "?status=verified", headers=admin).get_json()
    assert pending["items"] == []
