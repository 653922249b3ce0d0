"""Which queue the settings build, and the rules of job kinds (no database, no broker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from huey import RedisHuey, SqliteHuey

from facito_admin.config import ConfigurationError, load_settings
from facito_admin.jobs.queue import build_huey, huey_file
from facito_admin.jobs.registry import job_handler, unregister_job_handler


def _settings(tmp_path: Path, **values: Any):
    return load_settings({"instance_path": tmp_path / "instance", "env": "test"} | values)


def test_the_sqlite_queue_lives_beside_a_sqlite_database(tmp_path: Path):
    settings = _settings(tmp_path, database_url=f"sqlite:///{tmp_path}/data/facito.db")
    assert huey_file(settings) == tmp_path / "data" / "facito-huey.db"
    huey = build_huey(settings)
    assert isinstance(huey, SqliteHuey)
    assert (tmp_path / "data" / "facito-huey.db").exists()


def test_the_sqlite_queue_of_a_postgresql_deployment_is_in_the_instance_folder(tmp_path: Path):
    settings = _settings(tmp_path, database_url="postgresql+psycopg://app@db/facito")
    assert huey_file(settings) == (tmp_path / "instance" / "huey.db").resolve()


def test_a_sqlite_queue_file_can_be_named(tmp_path: Path):
    settings = _settings(tmp_path, huey_url=f"sqlite:///{tmp_path}/queue/jobs.db")
    assert huey_file(settings) == tmp_path / "queue" / "jobs.db"


def test_a_redis_url_builds_a_redis_queue_without_connecting(tmp_path: Path):
    huey = build_huey(_settings(tmp_path, huey_url="redis://127.0.0.1:1/0", huey_name="x"))
    assert isinstance(huey, RedisHuey)
    assert huey.name == "x"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"huey_url": "amqp://broker"}, "FACITO_HUEY_URL"),
        ({"job_heartbeat_seconds": 60, "job_stale_seconds": 90}, "twice"),
        ({"worker_threads": 0}, "FACITO_WORKER_THREADS"),
    ],
)
def test_job_settings_that_cannot_work_stop_the_process(
    tmp_path: Path, values: dict[str, Any], message: str
):
    with pytest.raises(ConfigurationError, match=message):
        _settings(tmp_path, **values)


def test_job_kinds_are_short_lowercase_names_with_one_handler_each():
    with pytest.raises(ValueError, match="lowercase"):
        job_handler("Directory Sync")

    def first(session, ctx):
        return {}

    def second(session, ctx):
        return {}

    job_handler("test.unit-kind")(first)
    try:
        job_handler("test.unit-kind")(first)  # the same function again (a re-import) is fine
        with pytest.raises(ValueError, match="already has a handler"):
            job_handler("test.unit-kind")(second)
    finally:
        unregister_job_handler("test.unit-kind")
