"""Every REST route, walked from the URL map, against every kind of caller: a caller is refused
with 403 exactly when its roles lack a permission the route declares, and never otherwise.
Routes added later are covered without touching this file."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter, Rule, UUIDConverter

from facito_admin.auth.permissions import (
    ROLE_PERMISSIONS,
    SELF_PERMISSIONS,
    AppRole,
    GrantAccess,
    Permission,
    grant_permissions,
)
from facito_admin.http.access import REQUIRED_ATTR
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.incidents import record_incident
from tests.factories.subject_requests import SeededRequest, seed_subject_request
from tests.factories.support_access import grant_access

ORG_PARAM = "org_id"
# Granted, these would suspend or end organisation A for every later caller of the walk; the
# callers they refuse are still walked.
ENDS_THE_ORGANISATION = ("/suspend", "/offboard")


@pytest.fixture
def seeded(runtime: Runtime, org_a: Org) -> SeededRequest:
    """A data-subject request of org A (and its DPO twin) whose subject is the walk's employee:
    allowed calls on {request_id} reach the request itself instead of stopping at 404."""
    return seed_subject_request(runtime, org_a.id)


@pytest.fixture
def incident(runtime: Runtime, org_a: Org) -> uuid.UUID:
    """An incident that affects org A: allowed calls on {incident_id} reach it (Facito's
    record, and org A's notice of it)."""
    return record_incident(runtime, [org_a.id])


def _seeded_ids(rule: Rule, seeded: SeededRequest, incident: uuid.UUID) -> dict[str, str]:
    """Path parameters aimed at seeded rows: the DPO's routes at the twin in its queue."""
    in_dpo_queue = rule.rule.startswith("/v1/data-subject-requests/")
    return {
        "request_id": str(seeded.dpo_request_id if in_dpo_queue else seeded.request_id),
        "incident_id": str(incident),
    }


@pytest.fixture
def callers(
    runtime: Runtime,
    org_a: Org,
    auth: Callable[..., dict[str, str]],
    seeded: SeededRequest,
) -> dict[str, Any]:
    """Each caller kind: its headers, its permissions, and how it reaches organisation A:
    `member`, `staff` (by role, no grant) or `granted` (staff through a support grant)."""
    found: dict[str, Any] = {}
    for role in AppRole:
        staff = role.value.startswith(("Facito.", "Support."))
        app_only = role is AppRole.IntegrationReadWrite
        granted = set(ROLE_PERMISSIONS[role])
        if not staff and not app_only:
            granted |= SELF_PERMISSIONS
        headers = auth(None if staff else org_a, role.value, app=app_only)
        found[role.value] = (headers, frozenset(granted), "staff" if staff else "member")
    # The subject of the seeded request: their own requests answer them.
    found["employee (no role)"] = (auth(org_a, oid=seeded.entra_oid), SELF_PERMISSIONS, "member")
    # Support engineers through grants org A approved: what the grant's scope gives, no more.
    for label, access, kinds in (
        ("read-only grant", GrantAccess.ReadOnly, frozenset[str]()),
        ("read-write grant on accounts", GrantAccess.ReadWrite, frozenset({"accounts"})),
    ):
        oid = str(uuid.uuid4())
        grant_access(runtime, org_a.id, oid, access=access, resource_kinds=tuple(kinds))
        granted = ROLE_PERMISSIONS[AppRole.SupportEngineer] | grant_permissions(access, kinds)
        found[f"Support.Engineer with a {label}"] = (
            auth(None, AppRole.SupportEngineer.value, oid=oid),
            granted,
            "granted",
        )
    return found


# Refusals about the caller's relation to one object, whatever their roles: only the request's
# assignee downloads its export (the seeded request has none).
REFUSED_FOR_THE_OBJECT = {"dsr-export-not-assignee"}


def reaches_by_role(granted: frozenset[Permission]) -> bool:
    return Permission.OrganisationRead in granted


def _placeholder(
    rule: Rule, name: str, org: Org, seeded: SeededRequest, incident: uuid.UUID
) -> str:
    if name == ORG_PARAM:
        return str(org.id)
    real = _seeded_ids(rule, seeded, incident).get(name)
    if real is not None:
        return real
    converter = rule._converters[name]
    if isinstance(converter, UUIDConverter):
        return str(uuid.uuid4())
    if isinstance(converter, IntegerConverter):
        return "1"
    return "placeholder"


def _operations(
    app: Flask, org: Org, seeded: SeededRequest, incident: uuid.UUID
) -> Iterator[tuple[str, str, tuple[Permission, ...]]]:
    """(method, path, declared permissions) of every guarded REST operation."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        path = re.sub(
            r"<(?:[^<>:]+:)?([^<>]+)>",
            lambda m, rule=rule: _placeholder(rule, m.group(1), org, seeded, incident),
            rule.rule,
        )
        for method in sorted((rule.methods or set()) - {"OPTIONS", "HEAD"}):
            handler = getattr(view_class, method.lower(), None) if view_class else view
            declared = getattr(handler, REQUIRED_ATTR, None)
            if declared is not None:
                yield method, path, declared


def test_each_caller_is_refused_exactly_what_its_roles_do_not_grant(
    app: Flask,
    client,
    org_a: Org,
    callers: dict[str, Any],
    seeded: SeededRequest,
    incident: uuid.UUID,
):
    checked = 0
    for method, path, declared in _operations(app, org_a, seeded, incident):
        in_organisation = f"/organisations/{org_a.id}" in path
        for who, (headers, granted, reach) in callers.items():
            missing = {str(p) for p in declared if p not in granted}
            if not missing and path.endswith(ENDS_THE_ORGANISATION):
                continue
            response = client.open(path, method=method, headers=headers, json={})
            label = f"{who}: {method} {path} -> {response.status_code}"
            body = response.get_json(silent=True) or {}
            response.close()  # a streamed export ends here, its context with it
            if reach == "staff" and in_organisation and (missing or not reaches_by_role(granted)):
                # Staff without a grant: what their role does not give them inside the
                # organisation (and the organisation itself, without onboarding rights) does
                # not exist for them.
                assert response.status_code == 404, label
            elif missing:
                assert response.status_code == 403, label
                assert set(body.get("missing_permissions", [])) == missing, label
            elif not (isinstance(body, dict) and body.get("code") in REFUSED_FOR_THE_OBJECT):
                assert response.status_code not in (401, 403), label
            checked += 1
    assert checked > 500, "the matrix walked too few operations to prove anything"
