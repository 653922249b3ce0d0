"""The jobs table behind the ORM: PostgreSQL row-level security keeps organisations apart."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from facito_admin.db.session import bind_organisation, unit_of_work
from facito_admin.jobs import enqueue_job
from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.audit import admin_ctx


@pytest.mark.postgres_only
def test_row_level_security_hides_other_organisations_jobs_from_plain_sql(
    runtime: Runtime, org_a: Org, org_b: Org
):
    with unit_of_work(runtime, organisation_id=org_a.id) as session:
        enqueue_job(session, admin_ctx(org_a.id), kind="test.steps", params={"steps": 1})
    count = text("SELECT count(*) FROM jobs")
    for org, expected in ((org_a, 1), (org_b, 0)):
        with runtime.session() as session:
            bind_organisation(session, org.id)
            assert session.execute(count).scalar_one() == expected
    with runtime.session() as session:
        # No organisation at all: nothing, rather than everything.
        assert session.execute(count).scalar_one() == 0
