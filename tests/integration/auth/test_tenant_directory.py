"""The tenant directory on its own: what it keeps, for how long, and what makes it forget."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from facito_admin.auth.tenants import TenantDirectory, TenantOrganisation
from facito_admin.db.session import unit_of_work
from facito_admin.tenants.lookups import find_tenant_organisation, organisation_exists
from facito_admin.tenants.models import Organisation, OrganisationStatus
from tests.conftest import TENANT_A, TENANT_B, Org


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _suspend_elsewhere(runtime, organisation_id: uuid.UUID) -> None:
    # Straight on a connection: as another process would, unseen by this one's sessions.
    with runtime.database.engine.begin() as connection:
        connection.execute(
            update(Organisation.__table__)
            .where(Organisation.__table__.c.id == organisation_id)
            .values(status="suspended")
        )


def _directory(runtime, *, ttl: float, clock: Clock) -> TenantDirectory:
    return TenantDirectory(
        runtime.database,
        ttl=ttl,
        find_tenant=find_tenant_organisation,
        organisation_exists=organisation_exists,
        clock=clock,
    )


def test_each_tenant_gets_its_own_organisation_and_unknown_ones_get_none(
    runtime, org_a: Org, org_b: Org
):
    directory = _directory(runtime, ttl=5, clock=Clock())
    for _ in range(2):
        assert directory.organisation_of(TENANT_A) == TenantOrganisation(org_a.id, active=True)
        assert directory.organisation_of(TENANT_B) == TenantOrganisation(org_b.id, active=True)
        assert directory.organisation_of(str(uuid.uuid4())) is None


def test_an_entry_lives_for_the_window_and_not_a_moment_longer(runtime, org_a: Org, org_b: Org):
    clock = Clock()
    directory = _directory(runtime, ttl=5, clock=clock)
    assert directory.organisation_of(TENANT_A).active
    _suspend_elsewhere(runtime, org_a.id)
    clock.now += 4.9
    assert directory.organisation_of(TENANT_A).active
    clock.now += 0.1
    assert not directory.organisation_of(TENANT_A).active
    assert directory.organisation_of(TENANT_B).active


def test_a_clock_that_goes_back_ends_an_entry_rather_than_lengthening_it(runtime, org_a: Org):
    clock = Clock()
    directory = _directory(runtime, ttl=5, clock=clock)
    assert directory.organisation_of(TENANT_A).active
    _suspend_elsewhere(runtime, org_a.id)
    clock.now -= 3600
    assert not directory.organisation_of(TENANT_A).active


def test_a_commit_here_that_changes_an_organisation_clears_the_directory(runtime, org_a: Org):
    directory = _directory(runtime, ttl=300, clock=Clock())
    assert directory.organisation_of(TENANT_A).active
    with unit_of_work(runtime, organisation_id=None) as session:
        session.execute(
            update(Organisation)
            .where(Organisation.id == org_a.id)
            .values(status=OrganisationStatus.suspended)
        )
    assert not directory.organisation_of(TENANT_A).active


def test_a_change_rolled_back_here_leaves_the_directory_as_it_was(runtime, org_a: Org):
    directory = _directory(runtime, ttl=300, clock=Clock())
    assert directory.organisation_of(TENANT_A).active
    with runtime.session() as session:
        organisation = session.get(Organisation, org_a.id)
        organisation.status = OrganisationStatus.suspended
        session.flush()
        session.rollback()
    _suspend_elsewhere(runtime, org_a.id)
    # Nothing committed here, so the cached answer stands until the window ends.
    assert directory.organisation_of(TENANT_A).active


def test_only_organisations_that_exist_are_remembered(runtime, org_a: Org):
    directory = _directory(runtime, ttl=300, clock=Clock())
    unknown = uuid.uuid4()
    assert directory.organisation_exists(org_a.id)
    assert not directory.organisation_exists(unknown)
    assert directory.organisation_exists(org_a.id)


def test_a_read_that_began_before_a_clear_is_not_kept(runtime, org_a: Org):
    directory = _directory(runtime, ttl=300, clock=Clock())
    cache = directory._tenants
    generation = cache.generation
    directory.clear()
    cache.put(TENANT_A, TenantOrganisation(org_a.id, active=True), generation)
    assert cache.get(TENANT_A) is None
