"""Alembic environment: one migration tree for SQLite and PostgreSQL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool, text

from facito_admin.db.base import Base
from facito_admin.db.migrations import include_name
from facito_admin.domains import load_models

load_models()
config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = (
        config.attributes.get("database_url")
        or os.environ.get("FACITO_MIGRATION_DATABASE_URL")
        or os.environ.get("FACITO_DATABASE_URL")
    )
    if not url:
        raise RuntimeError("set FACITO_DATABASE_URL (or FACITO_MIGRATION_DATABASE_URL)")
    return url.removesuffix("#nullpool")


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
            app_role = config.attributes.get("app_role") or os.environ.get(
                "FACITO_DATABASE_APP_ROLE"
            )
            if app_role and connection.dialect.name == "postgresql":
                # The application role owns nothing: it may only read and write rows, so the
                # row-level security that FORCE applies to owners applies to it as well.
                role = connection.dialect.identifier_preparer.quote(app_role)
                connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
                connection.execute(
                    text(
                        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
                    )
                )
                connection.execute(text(f"REVOKE ALL ON alembic_version FROM {role}"))
                connection.execute(text(f"GRANT SELECT ON alembic_version TO {role}"))
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
