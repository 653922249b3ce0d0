"""Idempotency-Key on POST: replays, reuse, in-flight duplicates, expiry, and client separation."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from sqlalchemy import func, select

from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.http import audit_exempt, db_session
from facito_admin.http.idempotency import (
    RETENTION,
    IdempotencyRecord,
    RecordState,
    fingerprint,
    purge_expired,
)
from facito_admin.jobs.housekeeping import purge_idempotency, purge_idempotency_records
from facito_admin.jobs.registry import periodic_jobs
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Organisation
from tests.apps import build_app
from tests.conftest import Org

Auth = Callable[..., dict[str, str]]
NEW_ORG = {
    "slug": "acme",
    "name": "Acme B.V.",
    "primary_region": "azure-nl",
    "backup_region": "azure-de",
}


@dataclass
class Probe:
    """What the test-only routes did: how often they ran, and a gate for the slow one."""

    runs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def _routes(probe: Probe) -> Callable[[Flask], None]:
    def add(app: Flask) -> None:
        # The routes change nothing that the audit log covers (the organisation route exists
        # to fail at commit), so they are exempt from the audit-event rule.
        exempt = audit_exempt(reason="test route of the idempotency layer")

        @exempt
        def counter() -> Any:
            run = next(probe.runs)
            response = jsonify({"run": run, "body": request.get_json(silent=True)})
            response.status_code = 201
            response.headers["Location"] = f"/test/things/{run}"
            response.headers["ETag"] = f'"run-{run}"'
            return response

        @exempt
        def slow() -> Any:
            probe.entered.set()
            probe.release.wait(10)
            return {"run": next(probe.runs)}, 201

        @exempt
        def boom() -> Any:
            next(probe.runs)
            raise RuntimeError("the disk is on fire")

        @exempt
        def organisation() -> Any:
            # Added, not flushed: a duplicate slug fails at the app's commit, after the view.
            body = request.get_json()
            db_session().add(
                Organisation(
                    slug=body["slug"],
                    name="Test",
                    primary_region="azure-nl",
                    backup_region="azure-de",
                )
            )
            return {"run": next(probe.runs)}, 201

        app.add_url_rule("/test/counter", "counter", counter, methods=["POST"])
        app.add_url_rule("/test/slow", "slow", slow, methods=["POST"])
        app.add_url_rule("/test/boom", "boom", boom, methods=["POST"])
        app.add_url_rule("/test/organisation", "organisation", organisation, methods=["POST"])

    return add


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def probe_app(runtime: Runtime, probe: Probe) -> Iterator[Flask]:
    yield build_app(runtime, routes=_routes(probe))
    probe.release.set()


@pytest.fixture
def probe_client(probe_app: Flask) -> FlaskClient:
    return probe_app.test_client()


def _key() -> str:
    return f"key-{uuid.uuid4()}"


def _records(runtime: Runtime) -> list[IdempotencyRecord]:
    with runtime.session() as session:
        return list(session.scalars(select(IdempotencyRecord)))


def _post(client: FlaskClient, path: str, key: str, headers: dict[str, str], **kwargs: Any):
    return client.post(path, headers={**headers, "Idempotency-Key": key}, **kwargs)


def test_the_same_request_with_the_same_key_replays_the_first_answer(
    client: FlaskClient, operator: dict[str, str], runtime: Runtime
):
    key = _key()
    first = _post(client, "/v1/organisations", key, operator, json=NEW_ORG)
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers

    again = _post(client, "/v1/organisations", key, operator, json=NEW_ORG)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    for header in ("Location", "ETag", "Content-Type"):
        assert again.headers[header] == first.headers[header]
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    with runtime.session() as session:
        count = session.scalar(select(func.count()).where(Organisation.slug == "acme"))
    assert count == 1


def test_a_json_body_is_the_same_request_whatever_its_key_order_and_spacing(
    probe_client: FlaskClient, auth: Auth, org_a: Org
):
    headers = auth(org_a, "Organisation.Admin") | {"Content-Type": "application/json"}
    key = _key()
    first = _post(probe_client, "/test/counter", key, headers, data='{"a": 1, "b": [1, 2]}')
    again = _post(probe_client, "/test/counter", key, headers, data='{"b":[1,2],"a":1}')
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() == {"run": 1, "body": {"a": 1, "b": [1, 2]}}


def test_the_same_key_with_another_body_or_path_is_refused(
    client: FlaskClient, operator: dict[str, str]
):
    key = _key()
    created = _post(client, "/v1/organisations", key, operator, json=NEW_ORG)
    assert created.status_code == 201

    other_body = _post(client, "/v1/organisations", key, operator, json=NEW_ORG | {"slug": "x"})
    assert other_body.status_code == 422
    assert other_body.mimetype == "application/problem+json"
    assert other_body.get_json()["code"] == "idempotency-key-reused"

    organisation_id = created.get_json()["id"]
    other_path = _post(
        client, f"/v1/organisations/{organisation_id}/suspend", key, operator, json={}
    )
    assert other_path.status_code == 422
    assert other_path.get_json()["code"] == "idempotency-key-reused"
    # Nothing was suspended by the refused request.
    assert (
        client.get(f"/v1/organisations/{organisation_id}", headers=operator).get_json()["status"]
        == "active"
    )


def test_a_duplicate_while_the_first_is_running_gets_409_and_then_the_replay(
    probe_app: Flask, probe: Probe, auth: Auth, org_a: Org
):
    headers = auth(org_a, "Organisation.Admin", oid=str(uuid.uuid4()))
    key = _key()
    answers: list[Any] = []
    first = threading.Thread(
        target=lambda: answers.append(
            _post(probe_app.test_client(), "/test/slow", key, headers, json={"n": 1})
        )
    )
    first.start()
    try:
        assert probe.entered.wait(10)
        duplicate = _post(probe_app.test_client(), "/test/slow", key, headers, json={"n": 1})
        assert duplicate.status_code == 409
        assert duplicate.mimetype == "application/problem+json"
        assert duplicate.get_json()["code"] == "idempotency-key-in-flight"
        assert duplicate.headers["Retry-After"] == "1"
        # A different body under the same key is a client bug, whether or not the first is done.
        other = _post(probe_app.test_client(), "/test/slow", key, headers, json={"n": 2})
        assert other.get_json()["code"] == "idempotency-key-reused"
    finally:
        probe.release.set()
        first.join(10)
    assert answers[0].status_code == 201
    assert answers[0].get_json() == {"run": 1}

    replay = _post(probe_app.test_client(), "/test/slow", key, headers, json={"n": 1})
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == {"run": 1}


def test_simultaneous_duplicates_run_the_request_once(
    probe_app: Flask, probe: Probe, auth: Auth, org_a: Org
):
    headers = auth(org_a, "Organisation.Admin", oid=str(uuid.uuid4()))
    key = _key()
    start = threading.Barrier(6)
    answers: list[Any] = []

    def send() -> None:
        client = probe_app.test_client()
        start.wait(10)
        answers.append(_post(client, "/test/counter", key, headers, json={"n": 1}))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 6
    assert next(probe.runs) == 2
    for answer in answers:
        if answer.status_code == 409:
            assert answer.get_json()["code"] == "idempotency-key-in-flight"
        else:
            assert answer.status_code == 201
            assert answer.get_json()["run"] == 1
    assert (
        sum("Idempotent-Replayed" not in a.headers and a.status_code == 201 for a in answers) == 1
    )


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_its_lease(
    probe_client: FlaskClient, auth: Auth, org_a: Org, runtime: Runtime
):
    oid = str(uuid.uuid4())
    key = _key()
    now = utcnow()
    with unit_of_work(runtime, organisation_id=None) as session:
        session.add(
            IdempotencyRecord(
                client_key=f"{org_a.tenant_id}:{oid}",
                organisation_id=org_a.id,
                key=key,
                method="POST",
                path="/test/counter",
                fingerprint=fingerprint("POST", "/test/counter", b"", b"{}"),
                state=RecordState.in_flight,
                created_at=now,
                expires_at=now + RETENTION,
            )
        )
    headers = auth(org_a, "Organisation.Admin", oid=oid)
    waiting = _post(probe_client, "/test/counter", key, headers, json={})
    assert waiting.get_json()["code"] == "idempotency-key-in-flight"

    with time_machine.travel(now + timedelta(minutes=6), tick=False):
        headers = auth(org_a, "Organisation.Admin", oid=oid)
        taken_over = _post(probe_client, "/test/counter", key, headers, json={})
    assert taken_over.status_code == 201
    assert "Idempotent-Replayed" not in taken_over.headers


def test_a_key_can_be_used_again_after_24_hours(
    probe_client: FlaskClient, auth: Auth, org_a: Org, runtime: Runtime
):
    oid = str(uuid.uuid4())
    key = _key()
    first = _post(probe_client, "/test/counter", key, auth(org_a, "Organisation.Admin", oid=oid))
    assert first.get_json()["run"] == 1
    with time_machine.travel(utcnow() + timedelta(hours=23), tick=False):
        headers = auth(org_a, "Organisation.Admin", oid=oid)
        assert _post(probe_client, "/test/counter", key, headers).get_json()["run"] == 1
    with time_machine.travel(utcnow() + RETENTION + timedelta(minutes=1), tick=False):
        headers = auth(org_a, "Organisation.Admin", oid=oid)
        later = _post(probe_client, "/test/counter", key, headers)
    assert later.get_json()["run"] == 2
    assert "Idempotent-Replayed" not in later.headers
    assert len(_records(runtime)) == 1


def test_keys_are_per_client_and_never_replay_another_clients_answer(
    probe_client: FlaskClient, auth: Auth, org_a: Org, org_b: Org
):
    key = _key()
    admin_a = auth(org_a, "Organisation.Admin", oid=str(uuid.uuid4()))
    script_a = auth(org_a, "Integration.ReadWrite", app=True, oid=str(uuid.uuid4()))
    admin_b = auth(org_b, "Organisation.Admin", oid=str(uuid.uuid4()))
    body = {"same": "body"}

    assert _post(probe_client, "/test/counter", key, admin_a, json=body).get_json()["run"] == 1
    from_b = _post(probe_client, "/test/counter", key, admin_b, json=body)
    assert from_b.get_json()["run"] == 2
    assert "Idempotent-Replayed" not in from_b.headers
    from_script = _post(probe_client, "/test/counter", key, script_a, json=body)
    assert from_script.get_json()["run"] == 3
    assert "Idempotent-Replayed" not in from_script.headers

    # Each client replays its own answer, with a fresh token of the same identity.
    assert _post(probe_client, "/test/counter", key, admin_a, json=body).get_json()["run"] == 1
    assert _post(probe_client, "/test/counter", key, admin_b, json=body).get_json()["run"] == 2
    # Another body from B under A's key is B's own business: B's record decides.
    reused = _post(probe_client, "/test/counter", key, admin_b, json={"other": 1})
    assert reused.get_json()["code"] == "idempotency-key-reused"


def test_a_server_error_frees_the_key_for_a_retry(
    probe_client: FlaskClient, probe: Probe, auth: Auth, org_a: Org, runtime: Runtime
):
    headers = auth(org_a, "Organisation.Admin")
    key = _key()
    first = _post(probe_client, "/test/boom", key, headers, json={})
    assert first.status_code == 500
    assert "fire" not in first.get_data(as_text=True)
    assert _records(runtime) == []
    retry = _post(probe_client, "/test/boom", key, headers, json={})
    assert retry.status_code == 500
    assert "Idempotent-Replayed" not in retry.headers
    assert next(probe.runs) == 3


def test_a_client_error_is_stored_and_replayed(client: FlaskClient, operator: dict[str, str]):
    key = _key()
    first = _post(client, "/v1/organisations", key, operator, json={"slug": "x"})
    assert first.status_code == 422
    again = _post(client, "/v1/organisations", key, operator, json={"slug": "x"})
    assert again.status_code == 422
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.mimetype == "application/problem+json"
    assert again.get_data() == first.get_data()


def test_a_failed_commit_stores_its_conflict_and_not_the_success(
    probe_client: FlaskClient, auth: Auth, org_a: Org, runtime: Runtime
):
    headers = auth(org_a, "Organisation.Admin")
    key = _key()
    clash = _post(probe_client, "/test/organisation", key, headers, json={"slug": org_a.slug})
    assert clash.status_code == 409
    assert clash.get_json()["code"] == "conflict"
    (record,) = _records(runtime)
    assert record.state == RecordState.completed
    assert record.response_status == 409
    again = _post(probe_client, "/test/organisation", key, headers, json={"slug": org_a.slug})
    assert again.status_code == 409
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_good_outcome_commits_with_the_business_write(
    probe_client: FlaskClient, auth: Auth, org_a: Org, runtime: Runtime
):
    headers = auth(org_a, "Organisation.Admin")
    key = _key()
    created = _post(probe_client, "/test/organisation", key, headers, json={"slug": "new-one"})
    assert created.status_code == 201
    (record,) = _records(runtime)
    assert record.state == RecordState.completed
    assert record.response_status == 201
    with runtime.session() as session:
        assert session.scalar(select(Organisation.id).where(Organisation.slug == "new-one"))


def test_requests_without_a_valid_token_are_never_stored(
    client: FlaskClient, probe_client: FlaskClient, runtime: Runtime
):
    key = _key()
    refused = _post(client, "/v1/organisations", key, {}, json=NEW_ORG)
    assert refused.status_code == 401
    forged = _post(
        client, "/v1/organisations", key, {"Authorization": "Bearer x.y.z"}, json=NEW_ORG
    )
    assert forged.status_code == 401
    # A public POST stays public: the key is ignored, never turned into a 401.
    for headers in ({}, {"Authorization": "Bearer x.y.z"}):
        public = _post(probe_client, "/test/counter", key, headers, json={})
        assert public.status_code == 201
        assert "Idempotent-Replayed" not in public.headers
    assert _records(runtime) == []


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_key_is_refused_with_400(
    client: FlaskClient, operator: dict[str, str], runtime: Runtime, key: str
):
    response = client.post(
        "/v1/organisations",
        json=NEW_ORG,
        headers={**operator, "Idempotency-Key": key.encode().decode("latin-1")},
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid-idempotency-key"
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert _records(runtime) == []


def test_the_key_is_ignored_on_other_methods(client: FlaskClient, auth: Auth, org_a: Org):
    response = client.get(
        "/v1/me", headers=auth(org_a, "Organisation.Reader") | {"Idempotency-Key": "bad key"}
    )
    assert response.status_code == 200


def test_expired_records_are_purged_by_the_scheduled_job_a_batch_at_a_time(runtime: Runtime):
    now = utcnow()
    with unit_of_work(runtime, organisation_id=None) as session:
        for minutes, key in [(-1, f"old-{n}") for n in range(5)] + [(1, "fresh")]:
            session.add(
                IdempotencyRecord(
                    client_key="t:o",
                    key=key,
                    method="POST",
                    path="/",
                    fingerprint="0" * 64,
                    created_at=now - RETENTION,
                    expires_at=now + timedelta(minutes=minutes),
                )
            )
    [scheduled] = [job for job in periodic_jobs() if job.name == "idempotency-purge"]
    assert scheduled.function is purge_idempotency
    assert purge_idempotency_records(runtime, batch=2) == 5
    assert [r.key for r in _records(runtime)] == ["fresh"]
    with unit_of_work(runtime, organisation_id=None) as session:
        assert purge_expired(session, now=now) == 0


def test_a_key_is_free_again_once_its_record_has_lived_24_hours(
    client: FlaskClient, runtime: Runtime, operator: dict[str, str]
):
    first = _post(client, "/v1/organisations", "reused", operator, json=NEW_ORG)
    assert first.status_code == 201
    other = NEW_ORG | {"slug": "other-acme"}
    assert _post(client, "/v1/organisations", "reused", operator, json=other).status_code == 422
    with time_machine.travel(utcnow() + RETENTION + timedelta(minutes=1), tick=False):
        purge_idempotency(runtime)
    assert _records(runtime) == []
    again = _post(client, "/v1/organisations", "reused", operator, json=other)
    assert again.status_code == 201


def test_every_post_documents_the_key_and_its_refusals(client: FlaskClient):
    spec = client.get("/openapi.json").get_json()
    posts = [ops["post"] for ops in spec["paths"].values() if "post" in ops]
    assert posts
    for operation in posts:
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
        assert {"400", "409", "422"} <= set(operation["responses"])
    assert spec["components"]["parameters"]["IdempotencyKey"]["in"] == "header"
