"""Every route under an organisation, walked from the URL map: to anyone outside it, the
organisation does not exist. Routes added later are covered without touching this file."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, jsonify
from sqlalchemy import select
from werkzeug.routing import IntegerConverter, Rule, UUIDConverter

from facito_admin.app import create_app
from facito_admin.auth.permissions import GRANTABLE_KINDS, ORGANISATION_ROLES, GrantAccess
from facito_admin.db.base import Base
from facito_admin.db.session import cross_organisation_session, unit_of_work
from facito_admin.db.tenancy import ORGANISATION_KEY
from facito_admin.offboarding.exports import start_export
from facito_admin.offboarding.models import OrganisationExport
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.audit import admin_ctx
from tests.factories.incidents import record_incident
from tests.factories.retention import seed_retention_rows
from tests.factories.subject_requests import seed_subject_request
from tests.factories.support_access import grant_access
from tests.factories.user_data import insert_records

ORG_PARAM = "org_id"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROBLEM = "application/problem+json"
# Bodies a caller outside the organisation may send: none of them may change the answer.
BODIES: dict[str, dict[str, Any]] = {
    "empty object": {"json": {}},
    "unknown field": {"json": {"surely_not_a_field": True}},
    "malformed json": {"data": "{", "content_type": "application/json"},
    "not json": {"data": "hello", "content_type": "text/plain"},
}


def _organisation_rules(app: Flask) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if ORG_PARAM in r.arguments]
    assert rules, "no route takes an org_id: the walk would prove nothing"
    return sorted(rules, key=lambda r: r.rule)


def _placeholder(rule: Rule, name: str) -> str:
    converter = rule._converters[name]
    if isinstance(converter, UUIDConverter):
        return str(uuid.uuid4())
    if isinstance(converter, IntegerConverter):
        return "1"
    return "placeholder"


def _path(rule: Rule, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule.rule)


def _real_ids(runtime: Runtime, org: Org) -> list[str]:
    """The organisation's own id and one id of each kind of row it owns (generic: any table)."""
    ids = [str(org.id)]
    with cross_organisation_session(runtime, reason="test: ids of org A's rows") as session:
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and ORGANISATION_KEY in table.c:
                row = session.execute(
                    select(table.c.id).where(table.c[ORGANISATION_KEY] == org.id).limit(1)
                ).scalar()
                if row is not None:
                    ids.append(str(row))
    return ids


def _paths_of(rule: Rule, org_id: uuid.UUID, candidates: list[str]) -> Iterator[str]:
    others = [name for name in rule.arguments if name != ORG_PARAM]
    yield _path(rule, {ORG_PARAM: str(org_id)} | {n: _placeholder(rule, n) for n in others})
    uuid_params = [n for n in others if isinstance(rule._converters[n], UUIDConverter)]
    for candidate in candidates if uuid_params else []:
        values = {n: _placeholder(rule, n) for n in others} | dict.fromkeys(uuid_params, candidate)
        yield _path(rule, {ORG_PARAM: str(org_id)} | values)


def _requests(
    app: Flask, org_id: uuid.UUID, candidates: list[str]
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for rule in _organisation_rules(app):
        for path in _paths_of(rule, org_id, candidates):
            for method in sorted(rule.methods or ()):
                bodies = BODIES.values() if method in WRITES else [{}]
                for body in bodies:
                    yield method, path, body


def _assert_looks_nonexistent(response, label: str, reference: dict[str, Any] | None) -> None:
    assert response.status_code == 404, f"{label}: {response.status_code} {response.data[:200]!r}"
    assert response.mimetype == PROBLEM, label
    if response.request.method == "HEAD":
        return
    body = response.get_json()
    assert body["code"] == "not-found", label
    if reference is not None:
        # Word for word what a caller gets for an organisation that really does not exist.
        assert {k: body[k] for k in ("type", "title", "detail")} == reference, label


def _reference_not_found(client, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/v1/organisations/{uuid.uuid4()}", headers=headers)
    assert response.status_code == 404
    return {k: response.get_json()[k] for k in ("type", "title", "detail")}


@pytest.fixture
def outsiders(
    runtime: Runtime, org_b: Org, auth: Callable[..., dict[str, str]]
) -> dict[str, dict[str, str]]:
    """Callers of organisation B with every role there is, and support engineers without a
    grant and with a grant for everything in organisation B (only)."""
    engineer = str(uuid.uuid4())
    everything = tuple(sorted(GRANTABLE_KINDS))
    grant_access(
        runtime, org_b.id, engineer, access=GrantAccess.ReadWrite, resource_kinds=everything
    )
    return {
        "support engineer with a grant for org B": auth(None, "Support.Engineer", oid=engineer),
        "org B user with every role": auth(org_b, *sorted(ORGANISATION_ROLES)),
        "org B integration app": auth(org_b, "Integration.ReadWrite", app=True),
        # A person without an admin role: only their own data (self permissions), nowhere else.
        "org B employee": auth(org_b),
        "support engineer without grant": auth(None, "Support.Engineer"),
    }


@pytest.fixture
def org_a_rows(runtime: Runtime, org_a: Org) -> None:
    """Rows of org A whose ids the walk aims at, beyond its audit events: an account and a
    linked data record (routes under accounts/{id}/data/{id}), the notice of an incident
    that affects it (its id is the incident's: routes under incidents/{id}) and a full export
    (exports/{id})."""
    account = make_account(runtime, org_a.id)
    insert_records(runtime, org_a.id, account.id)
    record_incident(runtime, [org_a.id])
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        start_export(session, admin_ctx(org_a.id))


def test_other_organisations_callers_get_404_on_every_route_of_organisation_a(
    app: Flask,
    client,
    runtime: Runtime,
    org_a: Org,
    org_a_rows: None,
    outsiders: dict[str, dict[str, str]],
):
    seed_retention_rows(runtime, org_a.id)
    seeded = seed_subject_request(runtime, org_a.id)
    candidates = _real_ids(runtime, org_a)
    assert len(candidates) >= 2, "org A should own rows (audit events) to aim at"
    with cross_organisation_session(runtime, reason="test: org A's export") as session:
        export_id = session.scalar(
            select(OrganisationExport.id).where(OrganisationExport.organisation_id == org_a.id)
        )
    # Every route with an {export_id} is aimed at org A's real export.
    assert str(export_id) in candidates
    # Every route with a {request_id} is aimed at org A's real data-subject request.
    assert str(seeded.request_id) in candidates
    for who, headers in outsiders.items():
        reference = _reference_not_found(client, headers)
        for method, path, body in _requests(app, org_a.id, candidates):
            response = client.open(path, method=method, headers=headers, **body)
            _assert_looks_nonexistent(response, f"{who}: {method} {path} {body}", reference)


def test_organisation_a_itself_reaches_its_routes(
    app: Flask, client, org_a: Org, auth: Callable[..., dict[str, str]]
):
    """The control: the same walk with A's own token is not answered 404 by the organisation
    check (a 404 can still come from a placeholder id further down the path)."""
    headers = auth(org_a, *sorted(ORGANISATION_ROLES))
    for rule in _organisation_rules(app):
        if set(rule.arguments) != {ORG_PARAM}:
            continue
        path = _path(rule, {ORG_PARAM: str(org_a.id)})
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            response = client.open(path, method=method, headers=headers, json={})
            assert response.status_code != 404, f"{method} {path}"


def test_a_nonexistent_organisation_is_404_for_its_neighbours_and_for_operators(
    app: Flask, client, org_a: Org, auth, operator: dict[str, str]
):
    nowhere = uuid.uuid4()
    callers = {"org A admin": auth(org_a, *sorted(ORGANISATION_ROLES)), "operator": operator}
    for who, headers in callers.items():
        reference = _reference_not_found(client, headers)
        for method, path, body in _requests(app, nowhere, [str(org_a.id)]):
            response = client.open(path, method=method, headers=headers, **body)
            _assert_looks_nonexistent(response, f"{who}: {method} {path} {body}", reference)


def test_a_route_that_forgot_require_is_still_confined_to_its_organisation(
    runtime: Runtime, org_a: Org, org_b: Org, auth
):
    """The organisation check keys on the path's org_id, not on the view's decorators."""
    app = create_app(runtime.settings, runtime=runtime)

    def careless(org_id: uuid.UUID) -> Any:
        return jsonify({"organisation": str(org_id)})

    app.add_url_rule("/v1/organisations/<uuid:org_id>/careless", view_func=careless)
    client = app.test_client()
    path = f"/v1/organisations/{org_a.id}/careless"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=auth(org_b, "Organisation.Admin")).status_code == 404
    assert client.get(path, headers=auth(org_a, "Organisation.Reader")).status_code == 200
