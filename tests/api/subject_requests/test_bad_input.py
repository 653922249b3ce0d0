"""Bad input to the data-subject request routes is a 4xx problem, never a 500, and writes
nothing; well-formed input of every shape the schema takes is stored and read back."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from facito_admin.runtime import Runtime
from tests.api.subject_requests.helpers import (
    ADMIN,
    OFFICER,
    OWN,
    Auth,
    act,
    employee,
    file_own,
    problem,
    queue_rows,
    queue_url,
)
from tests.conftest import Org

ACCESS = {"kind": "access", "description": "All my data"}
# Bodies of a request about yourself that the API refuses, and the field it names.
OWN_BODIES: dict[str, tuple[dict[str, Any], str]] = {
    "unknown kind": (ACCESS | {"kind": "everything"}, "kind"),
    "no kind": ({"description": "All my data"}, "kind"),
    "no description": ({"kind": "access"}, "description"),
    "blank description": (ACCESS | {"description": "   "}, "description"),
    "control characters": (ACCESS | {"description": "hi\u0000there"}, "description"),
    "description too long": (ACCESS | {"description": "x" * 4001}, "description"),
    "description not text": (ACCESS | {"description": ["a"]}, "description"),
    "rectification without changes": ({"kind": "rectification", "description": "Fix"}, "changes"),
    "rectification with empty changes": (
        {"kind": "rectification", "description": "Fix", "scope": {"changes": {}}},
        "changes",
    ),
    "changes of an unknown attribute": (
        {"kind": "rectification", "description": "Fix", "scope": {"changes": {"salary": 1}}},
        "salary",
    ),
    "changes of a badly formed attribute": (
        {"kind": "rectification", "description": "Fix", "scope": {"changes": {"email": "nope"}}},
        "email",
    ),
    "changes on an access request": (
        ACCESS | {"scope": {"changes": {"department": "Sales"}}},
        "changes",
    ),
    "unknown scope category": (ACCESS | {"scope": {"categories": ["dreams.night"]}}, "categories"),
    "scope categories not a list": (
        ACCESS | {"scope": {"categories": "identity.contact"}},
        "categories",
    ),
    "blank scope product": (ACCESS | {"scope": {"products": [""]}}, "products"),
    "too many scope products": (
        ACCESS | {"scope": {"products": [f"p{n}" for n in range(101)]}},
        "products",
    ),
    "unknown preference": (
        {"kind": "objection", "description": "No", "scope": {"preferences": ["mind.reading"]}},
        "preferences",
    ),
    "unknown scope field": (ACCESS | {"scope": {"everything": True}}, "everything"),
    "scope not an object": (ACCESS | {"scope": "all"}, "scope"),
    "unknown field": (ACCESS | {"account_id": str(uuid.uuid4())}, "account_id"),
}


@pytest.mark.parametrize("case", sorted(OWN_BODIES))
def test_a_bad_request_about_yourself_is_a_422_that_names_the_field_and_files_nothing(
    case: str, client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    body, field = OWN_BODIES[case]
    _, me = employee(runtime, org_a, auth)
    refusal = problem(client.post(OWN, json=body, headers=me), 422)
    assert field in str(refusal["errors"]), refusal
    assert queue_rows(runtime, org_a) == []


def test_a_body_that_is_not_json_or_too_large_is_refused_before_anything_is_filed(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    problem(client.post(OWN, data="{", content_type="application/json", headers=me), 400)
    problem(client.post(OWN, data="kind=access", headers=me), 415)
    huge = ACCESS | {"description": "x" * (6 * 1024 * 1024)}
    problem(client.post(OWN, json=huge, headers=me), 413)
    problem(client.post(OWN, json=[ACCESS], headers=me), 422)
    assert queue_rows(runtime, org_a) == []


def test_the_organisation_files_only_well_formed_requests(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, _ = employee(runtime, org_a, auth)
    admin = auth(org_a, ADMIN)
    good = {"account_id": str(account), "kind": "access", "description": "By phone"}
    for body, field in (
        (good | {"account_id": "not-a-uuid"}, "account_id"),
        (good | {"account_id": str(uuid.uuid4())}, "account_id"),
        ({k: v for k, v in good.items() if k != "account_id"}, "account_id"),
        (good | {"on_behalf_of": "subject"}, "on_behalf_of"),
        (good | {"on_behalf_of": "the neighbour"}, "on_behalf_of"),
        (good | {"channel": "pigeon"}, "channel"),
        (good | {"guardian_consent_id": "not-a-uuid"}, "guardian_consent_id"),
        (good | {"organisation_id": str(org_a.id)}, "organisation_id"),
        (good | {"kind": "rectification"}, "changes"),
    ):
        refusal = problem(client.post(queue_url(org_a), json=body, headers=admin), 422)
        assert field in str(refusal["errors"]), (body, refusal)
    assert queue_rows(runtime, org_a) == []


HANDLING_BODIES: dict[str, list[dict[str, Any]]] = {
    "verify": [{}, {"method": ""}, {"method": "x" * 201}, {"method": "call", "extra": 1}],
    "assign": [{"assignee_object_id": "x"}, {"assignee_name": ""}, {"who": "me"}],
    "extend": [
        {"days": "ten", "reason": "x"},
        {"days": 1.5, "reason": "x"},
        {"days": True, "reason": "x"},
    ],
    "await-subject": [{}, {"message": ""}, {"message": "x" * 2001}],
    "resume": [{"message": ""}, {"message": 3}],
    "complete": [{"summary": None}, {"summary": ["done"]}],
    "reject": [{"reasons": "No"}, {"reasons": [None]}, {"reasons": ["x"] * 21}],
    "cancel": [{"reason": ""}, {"reason": {}}],
}


@pytest.mark.parametrize("action", sorted(HANDLING_BODIES))
def test_a_bad_handling_body_is_a_422_and_changes_nothing(
    action: str, client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    filed = file_own(client, me)
    officer = auth(org_a, OFFICER)
    for body in HANDLING_BODIES[action]:
        problem(act(client, org_a, officer, filed["id"], action, body), 422)
    (row,) = queue_rows(runtime, org_a)
    assert (row.status.value, len(row.timeline), row.assignee_id) == ("routed", 2, None)


def test_a_malformed_or_unknown_request_id_is_a_404_problem_on_every_route(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    _, me = employee(runtime, org_a, auth)
    officer = auth(org_a, OFFICER)
    for request_id in ("not-a-uuid", str(uuid.uuid4()), "1"):
        for action in ("", *(f"/{a}" for a in HANDLING_BODIES), "/fulfil"):
            method = "GET" if not action else "POST"
            response = client.open(
                queue_url(org_a, f"/{request_id}{action}"), method=method, json={}, headers=officer
            )
            assert response.status_code in (404, 422), (request_id, action, response.status_code)
            assert response.mimetype == "application/problem+json"
        for action in ("", "/answer", "/cancel"):
            method = "GET" if not action else "POST"
            body = {"message": "hi"} if action == "/answer" else {}
            response = client.open(
                f"{OWN}/{request_id}{action}", method=method, json=body, headers=me
            )
            problem(response, 404)


def test_every_shape_of_scope_is_stored_as_json_and_read_back(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    """A rectification's changes hold dates and ids: the request keeps them as JSON text."""
    manager, _ = employee(runtime, org_a, auth, n=2)
    _, me = employee(runtime, org_a, auth)
    changes = {
        "birth_date": "1990-04-01",
        "manager_id": str(manager),
        "department": "Sales",
        "job_title": None,
        "is_minor": False,
    }
    response = client.post(
        OWN,
        json={"kind": "rectification", "description": "Fix", "scope": {"changes": changes}},
        headers=me,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["scope"]["changes"] == changes
    objection = file_own(
        client,
        me,
        kind="objection",
        description="No ads",
        scope={"preferences": ["interest_based_advertising"], "products": ["microsoft-365"]},
    )
    assert objection["scope"] == {
        "preferences": ["interest_based_advertising"],
        "products": ["microsoft-365"],
    }
