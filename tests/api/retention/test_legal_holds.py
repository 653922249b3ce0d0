"""Legal holds through the API: administrators and privacy officers place and release them,
readers only read, and another organisation sees none of them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from facito_admin.retention.actions import RetentionAction
from facito_admin.runtime import Runtime
from tests.api.organisations.helpers import audit_trail
from tests.conftest import Org
from tests.factories.accounts import make_account
from tests.factories.webhooks import deliveries, make_endpoint

Auth = Callable[..., dict[str, str]]
ADMIN = "Organisation.Admin"
OFFICER = "Privacy.Officer"
READER = "Organisation.Reader"


def url(org: Org, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/legal-holds{suffix}"


def place(client: FlaskClient, org: Org, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(url(org), json={"reason": "litigation"} | body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith(f"/legal-holds/{response.get_json()['id']}")
    return dict(response.get_json())


def test_an_admin_places_a_hold_on_an_account_category_and_releases_it(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    make_endpoint(
        runtime,
        org_a.id,
        "https://hooks.example/h",
        event_types=["legal_hold.placed", "legal_hold.released"],
    )
    account = make_account(runtime, org_a.id).id
    admin = auth(org_a, ADMIN)
    hold = place(
        client, org_a, admin, account_id=str(account), category="content.files", reference="C-7"
    )
    assert hold["scope"] == "account_category"
    assert (hold["account_id"], hold["category"], hold["reference"]) == (
        str(account),
        "content.files",
        "C-7",
    )
    assert hold["active"] is True
    assert hold["created_by"]

    response = client.post(
        url(org_a, f"/{hold['id']}/release"), json={"reason": "settled"}, headers=admin
    )
    assert response.status_code == 200, response.get_json()
    released = response.get_json()
    assert released["active"] is False
    assert released["release_reason"] == "settled"
    assert released["released_at"] and released["released_by"]

    again = client.post(url(org_a, f"/{hold['id']}/release"), json={"reason": "x"}, headers=admin)
    assert again.status_code == 409
    assert again.get_json()["code"] == "legal-hold-released"

    actions = [e["action"] for e in audit_trail(runtime, org_a.id)]
    assert actions.count(RetentionAction.LegalHoldPlace) == 1
    assert actions.count(RetentionAction.LegalHoldRelease) == 1
    assert [d.event_type for d in deliveries(runtime, org_a.id)] == [
        "legal_hold.placed",
        "legal_hold.released",
    ]


def test_holds_are_listed_newest_first_with_filters_and_pages(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    officer = auth(org_a, OFFICER)
    account = make_account(runtime, org_a.id).id
    whole = place(client, org_a, officer)
    one = place(client, org_a, officer, account_id=str(account))
    client.post(url(org_a, f"/{whole['id']}/release"), json={"reason": "done"}, headers=officer)
    reader = auth(org_a, READER)

    listed = client.get(url(org_a), headers=reader).get_json()
    assert [h["id"] for h in listed["items"]] == [one["id"], whole["id"]]
    active = client.get(url(org_a, "?active=true"), headers=reader).get_json()
    assert [h["id"] for h in active["items"]] == [one["id"]]
    released = client.get(url(org_a, "?active=false"), headers=reader).get_json()
    assert [h["id"] for h in released["items"]] == [whole["id"]]
    by_account = client.get(url(org_a, f"?account_id={account}"), headers=reader).get_json()
    assert [h["id"] for h in by_account["items"]] == [one["id"]]
    first = client.get(url(org_a, "?limit=1"), headers=reader).get_json()
    second = client.get(url(org_a, f"?limit=1&cursor={first['next_cursor']}"), headers=reader)
    assert [h["id"] for h in second.get_json()["items"]] == [whole["id"]]
    assert client.get(url(org_a, f"/{one['id']}"), headers=reader).get_json() == one


def test_readers_cannot_place_or_release_holds(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    hold = place(client, org_a, auth(org_a, ADMIN))
    reader = auth(org_a, READER)
    assert client.post(url(org_a), json={"reason": "x"}, headers=reader).status_code == 403
    release = client.post(
        url(org_a, f"/{hold['id']}/release"), json={"reason": "x"}, headers=reader
    )
    assert release.status_code == 403


def test_another_organisation_sees_none_of_the_holds_and_its_accounts_look_nonexistent(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    hold = place(client, org_a, auth(org_a, ADMIN))
    admin_b = auth(org_b, ADMIN)
    assert client.get(url(org_b, f"/{hold['id']}"), headers=admin_b).status_code == 404
    assert client.get(url(org_b), headers=admin_b).get_json()["items"] == []
    release = client.post(
        url(org_b, f"/{hold['id']}/release"), json={"reason": "x"}, headers=admin_b
    )
    assert release.status_code == 404
    assert client.get(url(org_a), headers=admin_b).status_code == 404

    account_a = make_account(runtime, org_a.id).id
    for account_id in (account_a, uuid.uuid4()):
        response = client.post(
            url(org_b), json={"reason": "x", "account_id": str(account_id)}, headers=admin_b
        )
        assert response.status_code == 422
        assert [(e["field"], e["message"]) for e in response.get_json()["errors"]] == [
            ("account_id", "No such account.")
        ]


def test_a_category_needs_an_account_and_must_be_in_the_catalogue(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    admin = auth(org_a, ADMIN)
    account = str(make_account(runtime, org_a.id).id)
    alone = client.post(
        url(org_a), json={"reason": "x", "category": "content.files"}, headers=admin
    )
    assert alone.status_code == 422
    assert [e["field"] for e in alone.get_json()["errors"]] == ["account_id"]
    unknown = client.post(
        url(org_a), json={"reason": "x", "account_id": account, "category": "nope"}, headers=admin
    )
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.get_json()["errors"]] == ["category"]
    blank = client.post(url(org_a), json={"reason": "  "}, headers=admin)
    assert blank.status_code == 422
