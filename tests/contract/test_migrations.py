"""The models and the migrations describe the same schema, and the migrations run both ways."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, Table, create_engine, inspect, text

from facito_admin.db.base import Base
from facito_admin.db.migrations import alembic_config, include_name, upgrade
from facito_admin.domains import load_models
from facito_admin.runtime import Runtime


def _differences(engine: Engine) -> list[Any]:
    """What `alembic revision --autogenerate` would write: nothing, when the two agree."""
    load_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": include_name,
            },
        )
        return list(compare_metadata(context, Base.metadata))


def _heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_the_migrations_have_one_head():
    assert len(_heads()) == 1


def test_the_migrated_test_database_matches_the_models(runtime: Runtime):
    """Runs on SQLite and, with FACITO_TEST_DATABASE_URL, on PostgreSQL."""
    engine = runtime.database.engine
    with engine.connect() as connection:
        assert set(MigrationContext.configure(connection).get_current_heads()) == _heads()
    differences = _differences(engine)
    assert not differences, (
        f"models and migrations disagree; change the migration to match: {differences}"
    )


def test_downgrade_to_base_and_upgrade_again_on_a_fresh_database(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables

        command.downgrade(alembic_config(url), "base")
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) <= {"alembic_version"}

        upgrade(url)
        assert set(inspect(engine).get_table_names()) == tables
        assert not _differences(engine)
    finally:
        engine.dispose()


def test_organisations_offboarded_before_0015_get_the_default_return_period(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'offboarded.db'}"
    upgrade(url, revision="0013")
    engine = create_engine(url)
    offboarded_on = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    organisations = Table("organisations", MetaData(), autoload_with=engine)
    try:
        with engine.begin() as connection:
            for slug, status in (("gone", "offboarded"), ("here", "active")):
                connection.execute(
                    organisations.insert().values(
                        id=uuid.uuid4().hex,  # how sa.Uuid stores it on SQLite
                        slug=slug,
                        name=slug,
                        status=status,
                        primary_region="azure-nl",
                        backup_region="azure-de",
                        status_changed_at=offboarded_on.replace(tzinfo=None),
                        version=1,
                        created_at=offboarded_on.replace(tzinfo=None),
                        updated_at=offboarded_on.replace(tzinfo=None),
                    )
                )
        upgrade(url)
        with engine.connect() as connection:
            rows = {
                row.slug: row
                for row in connection.execute(
                    text("SELECT slug, offboarded_at, data_return_until FROM organisations")
                )
            }
        assert rows["gone"].data_return_until.startswith("2026-12-02 09:30:00")
        assert rows["gone"].offboarded_at.startswith("2026-11-02 09:30:00")
        assert rows["here"].data_return_until is None
    finally:
        engine.dispose()


def test_accounts_there_before_0018_are_in_the_search_index(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'search.db'}"
    upgrade(url, revision="0015")
    engine = create_engine(url)
    now = datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None)
    organisation = uuid.uuid4().hex
    try:
        with engine.begin() as connection:
            connection.execute(
                Table("organisations", MetaData(), autoload_with=engine).insert(),
                {
                    "id": organisation,
                    "slug": "before",
                    "name": "Before",
                    "status": "active",
                    "primary_region": "azure-nl",
                    "backup_region": "azure-de",
                    "status_changed_at": now,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            connection.execute(
                Table("accounts", MetaData(), autoload_with=engine).insert(),
                [
                    {
                        "organisation_id": organisation,
                        "id": uuid.uuid4().hex,
                        "user_principal_name": f"{name}@before.example",
                        "upn_key": f"{name}@before.example",
                        "display_name": name.title(),
                        "name_key": name,
                        "source": "manual",
                        "status": "active",
                        "status_changed_at": now,
                        "is_minor": False,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for name in ("wilhelmina", "beatrix")
                ],
            )
        upgrade(url)
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT a.name_key FROM account_search s JOIN accounts a ON a.rowid = s.rowid"
                    " WHERE account_search MATCH :term"
                ),
                {"term": '"helmi"'},
            )
            assert found.scalars().all() == ["wilhelmina"]
    finally:
        engine.dispose()
