"""The isolation walk over the data-subject request routes outside an organisation's path:
the subject's own (/v1/me/data-subject-requests/{request_id}…) and Facito's DPO queue
(/v1/data-subject-requests/{request_id}…). Whoever is not the subject (or the DPO) gets for a
real request, in either queue, exactly the answer a made-up id gets.

The generic walk (test_isolation_walk.py) covers the organisation's queue; these routes carry
no org_id, so this walk finds them by their {request_id} and covers routes added later
without touching this file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from facito_admin.auth.permissions import ORGANISATION_ROLES
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.subject_requests import SeededRequest, seed_subject_request
from tests.tenancy.test_isolation_walk import ORG_PARAM, WRITES, _path

PARAM = "request_id"
# Valid bodies by action (the last path segment), so that a request gets past the schema to
# the lookup: an empty body would be refused alike for real and made-up ids, proving nothing.
BODIES: dict[str, dict[str, Any]] = {
    "answer": {"message": "Here is the document"},
    "cancel": {"reason": "Withdrawn"},
    "verify": {"method": "call-back"},
    "assign": {},
    "extend": {"days": 5, "reason": "Many systems"},
    "await-subject": {"message": "Which products?"},
    "resume": {"message": "Going on"},
    "complete": {"summary": "Done"},
    "reject": {"reasons": ["No"]},
}
# Facito's DPO answers the requests of its own queue (their ids are its to read there).
DPO_QUEUE = "/v1/data-subject-requests/"
DPO = "Facito DPO"


def _request_rules(app: Flask) -> list[Rule]:
    rules = [
        r for r in app.url_map.iter_rules() if PARAM in r.arguments and ORG_PARAM not in r.arguments
    ]
    assert rules, "no route outside an organisation takes a request_id: nothing to walk"
    return sorted(rules, key=lambda r: r.rule)


def _answer(response: Any) -> tuple[int, Any]:
    body = response.get_json(silent=True) or {}
    return response.status_code, {k: body.get(k) for k in ("type", "title", "detail", "code")}


@pytest.fixture
def seeded(runtime: Runtime, org_a: Org) -> SeededRequest:
    return seed_subject_request(runtime, org_a.id)


@pytest.fixture
def strangers(
    runtime: Runtime, org_a: Org, org_b: Org, auth: Callable[..., dict[str, str]]
) -> dict[str, dict[str, str]]:
    """Everyone but the subject: colleagues and neighbours with accounts, every role, apps."""
    colleague, neighbour = str(uuid.uuid4()), str(uuid.uuid4())
    make_account(runtime, org_a.id, "colleague", entra_oid=colleague)
    make_account(runtime, org_b.id, "neighbour", entra_oid=neighbour)
    every_role = sorted(ORGANISATION_ROLES)
    return {
        "org A colleague": auth(org_a, oid=colleague),
        "org A colleague with every role": auth(org_a, *every_role, oid=colleague),
        "org A integration app": auth(org_a, "Integration.ReadWrite", app=True),
        "org B employee": auth(org_b, oid=neighbour),
        "org B user with every role": auth(org_b, *every_role),
        "org B integration app": auth(org_b, "Integration.ReadWrite", app=True),
        "Facito operator": auth(None, "Facito.Operator"),
        "support engineer": auth(None, "Support.Engineer"),
        DPO: auth(None, "Facito.PrivacyOfficer"),
    }


def test_a_request_of_someone_else_answers_like_a_made_up_one_on_every_route(
    app: Flask,
    client,
    seeded: SeededRequest,
    strangers: dict[str, dict[str, str]],
):
    walked = 0
    for rule in _request_rules(app):
        for method in sorted((rule.methods or set()) - {"OPTIONS", "HEAD"}):
            body = BODIES.get(rule.rule.rsplit("/", 1)[-1], {}) if method in WRITES else None
            for who, headers in strangers.items():
                reals = seeded.ids
                if rule.rule.startswith(DPO_QUEUE) and who == DPO:
                    # The DPO answers its own part; the organisation's part is not in its queue.
                    reals = [str(seeded.request_id)]
                made_up = client.open(
                    _path(rule, {PARAM: str(uuid.uuid4())}),
                    method=method,
                    json=body,
                    headers=headers,
                )
                for real in reals:
                    response = client.open(
                        _path(rule, {PARAM: real}), method=method, json=body, headers=headers
                    )
                    label = f"{who}: {method} {rule.rule} on {real}"
                    assert response.status_code in (403, 404), f"{label}: {response.status_code}"
                    assert _answer(response) == _answer(made_up), label
                    walked += 1
    assert walked


def test_the_subject_reaches_their_own_request_and_not_its_dpo_twin_through_me(
    app: Flask, client, org_a: Org, seeded: SeededRequest, auth: Callable[..., dict[str, str]]
):
    """The control: the walk's routes do answer the subject, so its 404s mean something."""
    subject = auth(org_a, oid=seeded.entra_oid)
    own = [r for r in _request_rules(app) if r.rule.startswith("/v1/me/") and "GET" in r.methods]
    assert own
    for rule in own:
        assert (
            client.get(_path(rule, {PARAM: str(seeded.request_id)}), headers=subject).status_code
            == 200
        )
        # The DPO's part is Facito's to answer: not one of the subject's /v1/me requests.
        assert (
            client.get(
                _path(rule, {PARAM: str(seeded.dpo_request_id)}), headers=subject
            ).status_code
            == 404
        )
