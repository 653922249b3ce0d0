"""/metrics tells an operator whether scheduled directory syncs keep up: how many federations
sync on a schedule, how many are overdue, and how long ago the stalest one synced (never
which organisation)."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.directory_sync.models import DirectorySyncState
from facito_admin.directory_sync.service import update_sync_schedule
from tests.conftest import Org
from tests.factories.audit import admin_ctx
from tests.factories.directory_sync import SyncHarness, federation_of


def _gauges(client: FlaskClient) -> tuple[dict[str, float], str]:
    text = client.get("/metrics").get_data(as_text=True)
    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("facito_directory_sync")
    }
    return values, text


def _scheduled(syncs: SyncHarness, org: Org, *, synced_ago: timedelta, due_ago: timedelta) -> None:
    now = utcnow()
    with unit_of_work(syncs.runtime, organisation_id=org.id) as session:
        federation = federation_of(syncs.runtime, org)
        update_sync_schedule(
            session, admin_ctx(org.id), federation_id=federation, changes={"enabled": True}
        )
        session.execute(
            update(DirectorySyncState)
            .where(DirectorySyncState.federation_id == federation)
            .values(last_delta_sync_at=now - synced_ago, next_sync_at=now - due_ago)
            .execution_options(synchronize_session=False)
        )


def test_overdue_and_stale_scheduled_syncs_are_counted_across_organisations(
    syncs: SyncHarness, org_a: Org, org_b: Org, client: FlaskClient
):
    _scheduled(syncs, org_a, synced_ago=timedelta(hours=2), due_ago=timedelta(hours=1))
    _scheduled(syncs, org_b, synced_ago=timedelta(minutes=10), due_ago=timedelta(minutes=-20))

    gauges, text = _gauges(client)

    assert gauges["facito_directory_syncs_scheduled"] == 2
    assert gauges["facito_directory_syncs_overdue"] == 1
    assert 7190 <= gauges["facito_directory_sync_stalest_age_seconds"] <= 7300
    for org in (org_a, org_b):
        assert str(org.id) not in text
