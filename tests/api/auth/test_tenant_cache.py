"""Tenants and organisations cached per process: changes elsewhere apply within the window,
changes made here apply at once, and one tenant is never answered with another's organisation."""

from __future__ import annotations

import time
import uuid

import time_machine
from sqlalchemy import delete, insert, update

from facito_admin.app import create_app
from facito_admin.bootstrap import build_runtime
from facito_admin.db.base import new_id, utcnow
from facito_admin.tenants.models import Federation, Organisation
from tests.conftest import Org

ADMIN = "Organisation.Admin"


def _elsewhere(runtime, statement) -> None:
    """A change made by another process: straight on a connection, past this one's sessions."""
    with runtime.database.engine.begin() as connection:
        connection.execute(statement)


def _window(runtime) -> float:
    return float(runtime.settings.tenant_cache_seconds)


def test_a_suspension_made_elsewhere_takes_effect_once_the_window_has_passed(
    client, runtime, org_a: Org, org_b: Org, auth
):
    assert _window(runtime) == 5
    assert client.get("/v1/me", headers=auth(org_a, ADMIN)).status_code == 200
    _elsewhere(
        runtime,
        update(Organisation.__table__)
        .where(Organisation.__table__.c.id == org_a.id)
        .values(status="suspended"),
    )
    # Inside the window this process still has the organisation as it was...
    assert client.get("/v1/me", headers=auth(org_a, ADMIN)).status_code == 200
    with time_machine.travel(time.time() + _window(runtime) + 1, tick=False):
        refused = client.get("/v1/me", headers=auth(org_a, ADMIN))
        assert refused.status_code == 401
        assert "not active" in refused.get_json()["detail"]
        # ...and the other organisation is untouched by it.
        assert client.get("/v1/me", headers=auth(org_b, ADMIN)).status_code == 200


def test_a_federation_removed_elsewhere_stops_its_tokens_once_the_window_has_passed(
    client, runtime, org_a: Org, org_b: Org, auth
):
    assert client.get(f"/v1/organisations/{org_a.id}", headers=auth(org_a, ADMIN)).status_code == (
        200
    )
    _elsewhere(
        runtime,
        delete(Federation.__table__).where(Federation.__table__.c.tenant_id == org_a.tenant_id),
    )
    with time_machine.travel(time.time() + _window(runtime) + 1, tick=False):
        refused = client.get(f"/v1/organisations/{org_a.id}", headers=auth(org_a, ADMIN))
        assert refused.status_code == 401
        assert "not federated" in refused.get_json()["detail"]
        assert client.get("/v1/me", headers=auth(org_b, ADMIN)).status_code == 200


def test_a_suspension_through_the_api_takes_effect_at_once_although_the_tenant_was_cached(
    client, org_a: Org, org_b: Org, auth, operator
):
    assert client.get("/v1/me", headers=auth(org_a, ADMIN)).status_code == 200
    assert client.get("/v1/me", headers=auth(org_b, ADMIN)).status_code == 200
    response = client.post(
        f"/v1/organisations/{org_a.id}/suspend", json={"reason": "unpaid"}, headers=operator
    )
    assert response.status_code == 200
    assert client.get("/v1/me", headers=auth(org_a, ADMIN)).status_code == 401
    assert client.get("/v1/me", headers=auth(org_b, ADMIN)).status_code == 200
    reactivated = client.post(f"/v1/organisations/{org_a.id}/reactivate", headers=operator)
    assert reactivated.status_code == 200
    assert client.get("/v1/me", headers=auth(org_a, ADMIN)).status_code == 200


def test_a_tenant_is_never_answered_with_another_tenants_cached_organisation(
    client, org_a: Org, org_b: Org, auth
):
    for _ in range(2):  # the second round is answered from the cache
        me_a = client.get("/v1/me", headers=auth(org_a, ADMIN)).get_json()
        me_b = client.get("/v1/me", headers=auth(org_b, ADMIN)).get_json()
        assert (me_a["organisation_id"], me_b["organisation_id"]) == (str(org_a.id), str(org_b.id))
        other = client.get(f"/v1/organisations/{org_a.id}/accounts", headers=auth(org_b, ADMIN))
        assert other.status_code == 404
        own = client.get(f"/v1/organisations/{org_b.id}/accounts", headers=auth(org_b, ADMIN))
        assert own.status_code == 200


def test_a_tenant_federated_elsewhere_gets_in_at_once_refusals_are_not_remembered(
    client, runtime, org_a: Org, auth
):
    tenant = str(uuid.uuid4())
    headers = auth(None, ADMIN, tenant_id=tenant)
    assert client.get("/v1/me", headers=headers).status_code == 401
    now = utcnow()
    _elsewhere(
        runtime,
        insert(Federation.__table__).values(
            id=new_id(),
            organisation_id=org_a.id,
            tenant_id=tenant,
            status="active",
            consented_at=now,
            created_at=now,
            updated_at=now,
        ),
    )
    me = client.get("/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.get_json()["organisation_id"] == str(org_a.id)


def test_with_the_window_at_zero_changes_elsewhere_take_effect_at_once(
    settings, runtime, org_a: Org, org_b: Org, auth
):
    runtime = build_runtime(settings.model_copy(update={"tenant_cache_seconds": 0}))
    try:
        client = create_app(runtime.settings, runtime=runtime).test_client()
        assert client.get("/v1/me", headers=auth(org_a, ADMIN)).status_code == 200
        _elsewhere(
            runtime,
            update(Organisation.__table__)
            .where(Organisation.__table__.c.id == org_a.id)
            .values(status="suspended"),
        )
        assert client.get("/v1/me", headers=auth(org_a, ADMIN)).status_code == 401
        assert client.get("/v1/me", headers=auth(org_b, ADMIN)).status_code == 200
    finally:
        runtime.database.dispose()
