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
