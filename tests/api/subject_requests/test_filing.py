"""Who files, for whom: a guardian's request rests on a guardian consent in force, an
integration files as itself, administrators never as the subject; and the subject sees their
own requests and nobody else's."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from facito_admin.accounts.models import Account, AccountStatus
from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from facito_admin.subject_requests.actions import RequestAction
from tests.api.organisations.helpers import audit_trail
from tests.api.subject_requests.helpers import (
    ADMIN,
    INTEGRATION,
    OFFICER,
    OWN,
    Auth,
    employee,
    file_for,
    file_own,
    person,
    problem,
    queue_rows,
    queue_url,
)
from tests.conftest import Org
from tests.factories.accounts import birth_date_for_age, make_account
from tests.factories.audit import admin_ctx
from tests.factories.consents import make_guardian_consent


def _minor(runtime: Runtime, org: Org, n: int) -> uuid.UUID:
    """A 13-year-old's account with a guardian consent in force; the consent's id."""
    kid = make_account(
        runtime, org.id, n, birth_date=birth_date_for_age(13), status=AccountStatus.disabled
    )
    return make_guardian_consent(runtime, org.id, kid.id).id


def _account_of_consent(runtime: Runtime, org: Org, consent_id: uuid.UUID) -> uuid.UUID:
    from facito_admin.consents.models import GuardianConsent

    with runtime.session(organisation_id=org.id) as session:
        consent = session.get(GuardianConsent, (org.id, consent_id))
        assert consent is not None
        return consent.account_id


def _as_guardian(consent_id: uuid.UUID | str | None) -> dict[str, object]:
    return {
        "on_behalf_of": "guardian",
        "guardian_consent_id": None if consent_id is None else str(consent_id),
        "channel": "post",
    }


def test_a_guardians_request_for_a_minor_rests_on_the_guardian_consent_in_force(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    consent = _minor(runtime, org_a, 1)
    kid = _account_of_consent(runtime, org_a, consent)
    other_kids_consent = _minor(runtime, org_a, 2)
    b_consent = _minor(runtime, org_b, 3)
    admin = auth(org_a, ADMIN)
    for missing in (None, uuid.uuid4(), other_kids_consent, b_consent):
        refusal = problem(file_for(client, org_a, admin, kid, **_as_guardian(missing)), 422)
        assert "guardian_consent_id" in str(refusal["errors"]), missing
    assert queue_rows(runtime, org_a) == []

    response = file_for(client, org_a, admin, kid, **_as_guardian(consent))

    assert response.status_code == 201, response.get_json()
    filed = response.get_json()
    assert (filed["requester_kind"], filed["guardian_consent_id"]) == ("guardian", str(consent))
    assert filed["status"] == "verification_pending"


def test_a_revoked_guardian_consent_no_longer_carries_a_guardians_request(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    from facito_admin.consents import guardians

    consent = _minor(runtime, org_a, 1)
    kid = _account_of_consent(runtime, org_a, consent)
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        guardians.revoke_guardian_consent(
            session, admin_ctx(org_a.id), account_id=kid, reason="the guardian withdrew"
        )
    response = file_for(client, org_a, auth(org_a, ADMIN), kid, **_as_guardian(consent))
    assert "guardian_consent_id" in str(problem(response, 422)["errors"])


def test_a_guardian_files_only_for_a_minor(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    consent = _minor(runtime, org_a, 1)
    kid = _account_of_consent(runtime, org_a, consent)
    # The child has come of age since the consent was recorded.
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        account = session.get(Account, (org_a.id, kid))
        assert account is not None
        account.adult_on = utcnow().date()
    response = file_for(client, org_a, auth(org_a, ADMIN), kid, **_as_guardian(consent))
    assert "requester" in str(problem(response, 422)["errors"])


def test_a_guardian_consent_is_named_only_for_a_guardians_request(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    consent = _minor(runtime, org_a, 1)
    kid = _account_of_consent(runtime, org_a, consent)
    response = file_for(client, org_a, auth(org_a, ADMIN), kid, guardian_consent_id=str(consent))
    assert "guardian_consent_id" in str(problem(response, 422)["errors"])


def test_an_integration_files_as_an_integration_whatever_it_claims(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, _ = employee(runtime, org_a, auth)
    app = auth(org_a, INTEGRATION, app=True)
    response = file_for(client, org_a, app, account, channel="web_form")
    assert response.status_code == 201, response.get_json()
    filed = response.get_json()
    assert (filed["requester_kind"], filed["status"]) == ("integration", "routed")
    (event,) = [e for e in audit_trail(runtime, org_a.id) if e["action"] == RequestAction.File]
    assert (event["actor_kind"], event["details"]["requester_kind"]) == (
        "organisation_app",
        "integration",
    )
    claimed = file_for(client, org_a, app, account, kind="erasure", on_behalf_of="administrator")
    assert claimed.status_code == 201
    assert claimed.get_json()["requester_kind"] == "integration"


def test_people_file_as_administrator_or_guardian_never_as_the_subject_or_an_integration(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, _ = employee(runtime, org_a, auth)
    officer = auth(org_a, OFFICER)
    for claimed in ("subject", "integration", "facito_support", "facito_dpo"):
        refusal = problem(file_for(client, org_a, officer, account, on_behalf_of=claimed), 422)
        assert "on_behalf_of" in str(refusal["errors"]), claimed
    response = file_for(client, org_a, officer, account, channel="email")
    assert response.status_code == 201
    assert (response.get_json()["requester_kind"], response.get_json()["status"]) == (
        "administrator",
        "verification_pending",
    )


def test_the_subject_sees_their_own_requests_and_nobody_else_sees_them_as_theirs(
    client: FlaskClient, runtime: Runtime, org_a: Org, org_b: Org, auth: Auth
):
    mine_account, me = employee(runtime, org_a, auth)
    _, colleague = employee(runtime, org_a, auth, n=2)
    _, neighbour = employee(runtime, org_b, auth, n=3)
    mine = file_own(client, me)
    theirs = file_own(client, colleague, kind="erasure")
    # Filed for me by the organisation: mine too.
    for_me = file_for(
        client,
        org_a,
        auth(org_a, ADMIN),
        mine_account,
        kind="rectification",
        scope={"changes": {"department": "Sales"}},
    )
    assert for_me.status_code == 201, for_me.get_json()

    listed = client.get(OWN, headers=me).get_json()["items"]
    assert {r["id"] for r in listed} == {mine["id"], for_me.get_json()["id"]}
    assert client.get(OWN, headers=neighbour).get_json()["items"] == []
    # The view of the subject leaves out who handles it and the jobs behind it.
    assert not {"assignee_id", "job_ids", "results", "requester"} & set(listed[0])

    made_up = client.get(f"{OWN}/{uuid.uuid4()}", headers=colleague).get_json()
    for stranger in (colleague, neighbour, auth(org_a, ADMIN, oid=str(uuid.uuid4()))):
        for method, suffix, body in (
            ("GET", "", None),
            ("POST", "/answer", {"message": "hi"}),
            ("POST", "/cancel", {}),
        ):
            response = client.open(
                f"{OWN}/{mine['id']}{suffix}", method=method, json=body, headers=stranger
            )
            assert response.status_code == 404, (suffix, response.get_json())
            if method == "GET" and stranger is colleague:
                assert response.get_json()["detail"] == made_up["detail"]
    assert client.get(f"{OWN}/{theirs['id']}", headers=me).status_code == 404
    assert client.get(f"{OWN}/{mine['id']}", headers=me).get_json()["status"] == "routed"


def test_a_person_without_an_account_here_has_no_requests_to_file_or_read(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    nobody = auth(org_a, oid=str(uuid.uuid4()))
    assert client.get(OWN, headers=nobody).status_code == 404
    response = client.post(OWN, json={"kind": "access", "description": "hi"}, headers=nobody)
    assert problem(response, 404)["code"] == "not-found"
    assert queue_rows(runtime, org_a) == []


def test_a_deleted_account_is_no_subject_to_file_for(
    client: FlaskClient, runtime: Runtime, org_a: Org, auth: Auth
):
    account, _ = person(runtime, org_a)
    admin = auth(org_a, ADMIN)
    url = f"/v1/organisations/{org_a.id}/accounts/{account}"
    etag = client.get(url, headers=admin).headers["ETag"]
    deleted = client.delete(url, headers=admin | {"If-Match": etag})
    assert deleted.status_code == 200, deleted.get_json()
    assert "account_id" in str(problem(file_for(client, org_a, admin, account), 422)["errors"])
    assert client.get(queue_url(org_a), headers=admin).get_json()["items"] == []
