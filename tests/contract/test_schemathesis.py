"""schemathesis over every operation, in-process, with real tokens and real organisations.

One ordinary test per caller runs every operation of the served document in a loop: the
`runtime` fixture empties the tables after each test, so the operations share one pair of
organisations, and schemathesis' own pytest plugin (`from_fixture`) does not run on this pytest.
Each operation gets a Hypothesis run of valid and of invalid requests; every check schemathesis
has applies (tests/contract/conftest.py: server errors, status codes, content types, response
schemas and headers, acceptance of valid and rejection of invalid data, authentication actually
enforced, response time), and the failures of all operations are reported together.

Then the stateful phase: scenarios of calls that follow the document's links, from what a
create answered to its read, change, actions and sub-collections, with the same checks and the
stateful ones (a deleted resource is gone, a created one can be read).

FACITO_SCHEMATHESIS_EXAMPLES raises the number of examples per operation, and
FACITO_SCHEMATHESIS_SCENARIOS the number of scenarios, for a deeper local run.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.schemas import APIOperation, BaseSchema

from facito_admin.auth.permissions import (
    GRANTABLE_KINDS,
    SELF_PERMISSIONS,
    AppRole,
    GrantAccess,
    Permission,
    permissions_for,
)
from facito_admin.db.base import utcnow
from facito_admin.http.access import REQUIRED_ATTR
from facito_admin.runtime import Runtime
from tests.conftest import Org, reset_database
from tests.contract.conftest import schemathesis_config
from tests.factories.incidents import record_incident
from tests.factories.subject_requests import file_subject_request, seed_subject_request
from tests.factories.support_access import grant_access

MAX_EXAMPLES = int(os.environ.get("FACITO_SCHEMATHESIS_EXAMPLES", "25"))
CASE_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    # The same cases on every run: a failure in CI reproduces on a laptop.
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


def _path_parameters(operation: APIOperation, organisation: Org) -> dict[str, Any] | None:
    # A real organisation, so that requests reach the handlers instead of stopping at 404.
    return {"org_id": str(organisation.id)} if "{org_id}" in operation.path else None


def _run(
    operation: APIOperation,
    mode: GenerationMode,
    headers: dict[str, str],
    path_parameters: dict[str, Any] | None,
    statuses: Counter[int],
    prepare: Callable[[Any], None] | None = None,
) -> None:
    strategy = operation.as_strategy(mode, path_parameters=path_parameters)

    @CASE_SETTINGS
    @given(case=strategy)
    def check(case: Any) -> None:
        if prepare is not None:
            prepare(case)
        # Given at call time, the token counts as the caller's own credentials: schemathesis
        # then also probes the operation without it and with a forged one (ignored_auth).
        response = case.call_and_validate(headers=headers)
        statuses[response.status_code] += 1

    check()


def _fuzz_every_operation(
    api_schema: BaseSchema, headers: dict[str, str], organisation: Org
) -> dict[str, Counter[int]]:
    failures: list[str] = []
    answered: dict[str, Counter[int]] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        statuses = answered.setdefault(operation.label, Counter())
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, headers, _path_parameters(operation, organisation), statuses)
            except Unsatisfiable:
                # Nothing of this operation can be made invalid: no parameters, no body.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, FailureGroup) as error:  # noqa: BLE001 - report every operation
                failures.append(f"{operation.label} ({mode.value}):\n{error}")
    assert not failures, "\n\n".join(failures)
    assert answered
    # The caller's real token is always accepted: a 401 would mean the run tested nothing.
    assert not [label for label, statuses in answered.items() if 401 in statuses]
    # Operations whose only id is the organisation find it (other ids are random: 404).
    org_only = [label for label in answered if label.count("{") == 1 and "{org_id}" in label]
    assert org_only
    assert not [label for label in org_only if set(answered[label]) == {404}]
    return answered


def test_every_operation_conforms_to_the_document_for_an_operator(
    api_schema: BaseSchema,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    auth: Callable[..., dict[str, str]],
):
    # Through a grant organisation A approved for everything a grant may cover, so that the
    # operations on its personal data are fuzzed past the 404 staff get without one.
    oid = str(uuid.uuid4())
    everything = tuple(sorted(GRANTABLE_KINDS))
    grant_access(runtime, org_a.id, oid, access=GrantAccess.ReadWrite, resource_kinds=everything)
    operator = auth(None, AppRole.FacitoOperator.value, oid=oid)
    answered = _fuzz_every_operation(api_schema, operator, org_a)
    # Operators may do everything there is: somewhere, every kind of request succeeded.
    assert any(status == 201 for statuses in answered.values() for status in statuses)


def test_every_operation_conforms_to_the_document_for_an_organisation_admin(
    api_schema: BaseSchema, org_a: Org, org_b: Org, auth: Callable[..., dict[str, str]]
):
    answered = _fuzz_every_operation(api_schema, auth(org_a, "Organisation.Admin"), org_a)
    # Operator-only operations refuse the admin before reading the request (403, never 422).
    assert set(answered["POST /v1/organisations"]) == {403}


# --- data-subject requests, aimed at a real request -----------------------------------------

SUBJECT_REQUESTS = "data-subject-requests"
DPO_QUEUE = "/v1/data-subject-requests"


def _declared(app: Flask, operation: APIOperation) -> frozenset[Permission]:
    """What the operation's view requires (`@require`), found through the app's own routing."""
    path = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), operation.path)
    endpoint, _ = app.url_map.bind("localhost").match(path, operation.method.upper())
    view = app.view_functions[endpoint]
    handler = getattr(view.view_class, operation.method.lower())
    return frozenset(getattr(handler, REQUIRED_ATTR, None) or ())


def test_every_data_subject_request_operation_conforms_on_a_real_request(
    app: Flask,
    api_schema: BaseSchema,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    auth: Callable[..., dict[str, str]],
):
    """The operations on data-subject requests, aimed at a real open request of a real account
    (a random id only reaches the 404): the handlers, the subject's own view and every answer
    they give, as each kind of caller who works with requests.

    Each run starts on an open request (the subject's, refiled when a run answered it); the
    DPO's own queue is aimed at the request's twin there.
    """
    seeded = seed_subject_request(runtime, org_a.id)
    # Each caller with what its token grants: an operation it lacks a permission for refuses
    # it before reading anything (the role matrix proves those 403s), so it is not fuzzed here.
    callers = {
        "privacy officer": (
            auth(org_a, "Privacy.Officer"),
            permissions_for(frozenset({AppRole.PrivacyOfficer})),
        ),
        "integration": (
            auth(org_a, "Integration.ReadWrite", app=True),
            permissions_for(frozenset({AppRole.IntegrationReadWrite})),
        ),
        "subject": (auth(org_a, oid=seeded.entra_oid), SELF_PERMISSIONS),
        "Facito DPO": (
            auth(None, "Facito.PrivacyOfficer"),
            permissions_for(frozenset({AppRole.FacitoPrivacyOfficer})),
        ),
    }

    def real_account(case: Any) -> None:
        # A valid filing names a real account of the organisation (a random one is a 422).
        if isinstance(case.body, dict) and "account_id" in case.body:
            case.body["account_id"] = str(seeded.account_id)

    operations = [
        result.ok()
        for result in api_schema.get_all_operations()
        if SUBJECT_REQUESTS in result.ok().path
    ]
    assert len(operations) >= 16, [o.label for o in operations]
    failures: list[str] = []
    answered: Counter[str] = Counter()
    fuzzed: set[str] = set()
    for operation in operations:
        for who, (headers, granted) in callers.items():
            if not _declared(app, operation) <= granted:
                continue
            fuzzed.add(operation.label)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                request_id, twin = file_subject_request(runtime, org_a.id, seeded.account_id)
                aimed = twin if operation.path.startswith(DPO_QUEUE) else request_id
                values = {"org_id": str(org_a.id), "request_id": str(aimed)}
                parameters = {k: v for k, v in values.items() if f"{{{k}}}" in operation.path}
                statuses: Counter[int] = Counter()
                prepare = real_account if mode is GenerationMode.POSITIVE else None
                try:
                    _run(operation, mode, headers, parameters or None, statuses, prepare)
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE, operation.label
                except (Exception, FailureGroup) as error:  # noqa: BLE001 - report them all
                    failures.append(f"{who}: {operation.label} ({mode.value}):\n{error}")
                answered.update(f"{operation.method.upper()} {s}" for s in statuses if s < 300)
    assert not failures, "\n\n".join(failures)
    # Every operation has a caller here who may call it.
    assert fuzzed == {o.label for o in operations}
    # The runs reached real requests: reads, filings and changes succeeded somewhere.
    assert answered["GET 200"] and answered["POST 201"] and answered["POST 200"], answered


# --- incidents, aimed at a real incident ---------------------------------------------------


def test_every_incident_operation_conforms_on_a_real_incident(
    app: Flask,
    api_schema: BaseSchema,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    auth: Callable[..., dict[str, str]],
):
    """Facito's incident operations and an affected organisation's, aimed at a real open
    incident that affects org A (a random id only reaches the 404), as each kind of caller
    who works with incidents; each run starts on an incident of its own."""
    callers = {
        "Facito DPO": (
            auth(None, "Facito.PrivacyOfficer"),
            permissions_for(frozenset({AppRole.FacitoPrivacyOfficer})),
        ),
        "operator": (
            auth(None, "Facito.Operator"),
            permissions_for(frozenset({AppRole.FacitoOperator})),
        ),
        "privacy officer": (
            auth(org_a, "Privacy.Officer"),
            permissions_for(frozenset({AppRole.PrivacyOfficer})),
        ),
        "reader": (
            auth(org_a, "Organisation.Reader"),
            permissions_for(frozenset({AppRole.OrganisationReader})),
        ),
    }

    def real_facts(case: Any) -> None:
        # A valid incident names organisations that exist and was detected in the past.
        if isinstance(case.body, dict):
            if "organisation_ids" in case.body:
                case.body["organisation_ids"] = [str(org_a.id)]
            if "detected_at" in case.body:
                case.body["detected_at"] = utcnow().isoformat()
                case.body["occurred_at"] = None

    operations = [
        result.ok() for result in api_schema.get_all_operations() if "incidents" in result.ok().path
    ]
    assert len(operations) == 8, [o.label for o in operations]
    failures: list[str] = []
    answered: Counter[str] = Counter()
    fuzzed: set[str] = set()
    for operation in operations:
        for who, (headers, granted) in callers.items():
            if not _declared(app, operation) <= granted:
                continue
            fuzzed.add(operation.label)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                incident = record_incident(runtime, [org_a.id])
                values = {"org_id": str(org_a.id), "incident_id": str(incident)}
                parameters = {k: v for k, v in values.items() if f"{{{k}}}" in operation.path}
                statuses: Counter[int] = Counter()
                prepare = real_facts if mode is GenerationMode.POSITIVE else None
                try:
                    _run(operation, mode, headers, parameters or None, statuses, prepare)
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE, operation.label
                except (Exception, FailureGroup) as error:  # noqa: BLE001 - report them all
                    failures.append(f"{who}: {operation.label} ({mode.value}):\n{error}")
                answered.update(f"{operation.method.upper()} {s}" for s in statuses if s < 300)
    assert not failures, "\n\n".join(failures)
    assert fuzzed == {o.label for o in operations}
    # The runs reached real incidents: reads, records, updates and assessments succeeded.
    assert answered["GET 200"] and answered["POST 201"] and answered["POST 200"], answered


# --- the stateful phase: sequences of calls that follow the document's links ------------------

STATEFUL_SETTINGS = settings(
    max_examples=int(os.environ.get("FACITO_SCHEMATHESIS_SCENARIOS", "60")),
    stateful_step_count=6,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
# Checks an operation cannot meet by design, each with why.
DOCUMENT = Path(__file__).parents[2] / "openapi" / "openapi.json"
ACCOUNT_PATH = "/v1/organisations/{org_id}/accounts/{account_id}"


def _reads_of_an_account() -> list[str]:
    """Every GET of an account and what hangs under it, from the committed document."""
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return sorted(
        operation["operationId"]
        for path, operations in document["paths"].items()
        if path.startswith(ACCOUNT_PATH)
        for method, operation in operations.items()
        if method == "get"
    )


EXEMPT_CHECKS = [
    {
        # Deleting an account is a soft delete (DESIGN: grace period): it stays readable, with
        # status `deleted` and `purge_after`, with everything linked to it (products,
        # preferences, guardian consent, data), and can be restored until its purge.
        "include-operation-id": _reads_of_an_account(),
        "checks": {"use_after_free": {"enabled": False}},
    }
]


@dataclass
class Flows:
    """What the scenarios did: calls by operation and status, and calls that followed a link."""

    calls: Counter[str] = field(default_factory=Counter)
    followed: Counter[str] = field(default_factory=Counter)


def _run_scenarios(
    app: Flask,
    token: str,
    organisation: Org,
    keep: list[Org],
    runtime: Runtime,
    setup: Callable[[], None] = lambda: None,
) -> Flows:
    """Scenarios of up to six calls as ``token``, following links from what they create.

    Paths name ``organisation`` unless a link filled in one created in the scenario; the
    database is set back after each scenario (then ``setup`` runs again), so every scenario
    starts from the same state.
    """
    setup()
    schema = schemathesis.openapi.from_wsgi(
        "/openapi.json",
        app,
        config=schemathesis_config(
            auth={"openapi": {"bearerAuth": {"bearer": token}}},
            # The document's own links only (schemathesis would also guess some).
            phases={"stateful": {"inference": {"algorithms": []}}},
            operations=EXEMPT_CHECKS,
        ),
    )
    flows = Flows()
    known = {str(organisation.id)}
    created: set[str] = set()

    class Scenario(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            parameters = case.path_parameters or {}
            if "org_id" in parameters and str(parameters["org_id"]) not in known:
                parameters["org_id"] = str(organisation.id)

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            label = f"{case.method} {case.operation.path}"
            flows.calls[f"{label} {response.status_code}"] += 1
            values = {str(v) for k, v in (case.path_parameters or {}).items() if k != "org_id"}
            if values & created:
                flows.followed[label] += 1
            if response.status_code == 201:
                body = response.json()
                created.add(str(body.get("id")))
                if case.operation.path == "/v1/organisations":
                    known.add(str(body["id"]))

        def teardown(self) -> None:
            reset_database(runtime, keep=keep)
            setup()
            known.intersection_update({str(organisation.id)})
            created.clear()

    run_state_machine_as_test(Scenario, settings=STATEFUL_SETTINGS)
    return flows


def test_scenarios_of_an_organisation_admin_follow_the_links_and_conform(
    app: Flask, runtime: Runtime, org_a: Org, org_b: Org, make_token: Callable[..., str]
):
    flows = _run_scenarios(
        app, make_token(org_a, "Organisation.Admin"), org_a, [org_a, org_b], runtime
    )
    assert not [call for call in flows.calls if call.endswith(("500", "503"))]
    # Created accounts and tokens were read and changed through the links.
    assert flows.calls["POST /v1/organisations/{org_id}/accounts 201"]
    assert sum(flows.followed.values()) >= 5, flows.followed


def test_scenarios_of_an_operator_follow_the_links_and_conform(
    app: Flask,
    runtime: Runtime,
    org_a: Org,
    org_b: Org,
    auth: Callable[..., dict[str, str]],
):
    # With a grant of organisation A, as in the fuzzing above: the operator's scenarios follow
    # links into A's personal data as well as through the organisations it onboards.
    oid = str(uuid.uuid4())
    everything = tuple(sorted(GRANTABLE_KINDS))

    def grant() -> None:
        grant_access(
            runtime, org_a.id, oid, access=GrantAccess.ReadWrite, resource_kinds=everything
        )

    operator = auth(None, AppRole.FacitoOperator.value, oid=oid)
    token = operator["Authorization"].removeprefix("Bearer ")
    flows = _run_scenarios(app, token, org_a, [org_a, org_b], runtime, setup=grant)
    assert flows.calls["POST /v1/organisations 201"]
    assert sum(flows.followed.values()) >= 5, flows.followed
