"""Running Alembic from code: the CLI, tests and `make run` migrate through here."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

# Tables the migrations create outside the models: the account search index (migration 0018;
# on SQLite also FTS5's own account_search_* tables). Autogenerate leaves them alone.
SEARCH_INDEX_PREFIX = "account_search"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether autogenerate compares this reflected object with the models."""
    return not (type_ == "table" and (name or "").startswith(SEARCH_INDEX_PREFIX))


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic config for the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", "facito_admin:migrations")
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, *, app_role: str | None = None, revision: str = "head") -> None:
    """Migrate to ``revision``; then grant the application role its table rights (PostgreSQL)."""
    config = alembic_config(database_url)
    config.attributes["app_role"] = app_role
    command.upgrade(config, revision)


def unmigrated_reason(database_url: str) -> str | None:
    """Why the database at ``database_url`` is not at the latest migration; None when it is.

    A SQLite file that does not exist is reported, not created (connecting would create it).
    """
    from pathlib import Path

    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    local_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if local_file and not Path(str(url.database)).exists():
        return f"there is no database at {url.database}"
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    if current == head:
        return None
    where = url.render_as_string(hide_password=True)
    if current is None:
        return f"the database at {where} has no tables yet"
    return f"the database at {where} is at migration {current}, not {head}"
