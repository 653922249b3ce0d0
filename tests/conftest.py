"""Fixtures: a real migrated database (SQLite, or PostgreSQL when FACITO_TEST_DATABASE_URL is
set), a fake Entra key endpoint on 127.0.0.1, test-signed tokens, and always two organisations."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, make_url, or_, text
from werkzeug.serving import make_server

from facito_admin.app import create_app
from facito_admin.audit.chain import genesis_hash
from facito_admin.auth.context import SYSTEM_PRINCIPAL, RequestContext
from facito_admin.auth.dev_issuer import mint_token
from facito_admin.bootstrap import build_runtime
from facito_admin.config import Settings, load_settings
from facito_admin.db.base import Base, utcnow
from facito_admin.db.migrations import upgrade
from facito_admin.db.session import cross_organisation_session, unit_of_work
from facito_admin.organisations import service as organisations
from facito_admin.policies.statements.service import SEED_STATEMENT_ID
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Federation, FederationStatus, Organisation
from tests.fakes.dns import FakeDns

CLIENT_ID = "5f0f5a5e-1c1c-4c1c-8c1c-0000000000c1"
FACITO_TENANT = "fac17000-0000-4000-8000-000000000001"
AUTHORITY = "https://login.microsoftonline.com"
TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a"
TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"

# Each pytest-xdist worker (gw0, gw1, …) has a database of its own: on SQLite a file in the
# worker's own temporary folder, on PostgreSQL the configured database's name followed by the
# worker's (facito_ci_gw0), which .ci/postgres-suite creates beside it.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def worker_database(url: str | None) -> str | None:
    """``url`` with the database of this xdist worker; unchanged outside xdist."""
    if url is None or XDIST_WORKER is None:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{XDIST_WORKER}").render_as_string(
        hide_password=False
    )


PG_URL = worker_database(os.environ.get("FACITO_TEST_DATABASE_URL"))
PG_OWNER_URL = worker_database(os.environ.get("FACITO_TEST_MIGRATION_DATABASE_URL")) or PG_URL
PG_APP_ROLE = os.environ.get("FACITO_TEST_APP_ROLE")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (FACITO_TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def signing_key() -> RSAKey:
    """The key our fake Entra publishes and signs test tokens with."""
    return RSAKey.generate_key(2048, parameters={"kid": "test-key-1"})


@pytest.fixture(scope="session")
def jwks_server(signing_key: RSAKey) -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/common/discovery/v2.0/keys").respond_with_json(
        {"keys": [signing_key.as_dict(private=False) | {"use": "sig"}]}
    )
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        owner = create_engine(PG_OWNER_URL or PG_URL)
        with owner.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        owner.dispose()
        upgrade(PG_OWNER_URL or PG_URL, app_role=PG_APP_ROLE)
        return PG_URL
    path = tmp_path_factory.mktemp("db") / "test.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def dns_server() -> Iterator[FakeDns]:
    """The only DNS server of the test app: no test resolves a name on the real network
    (webhook URLs of schemathesis included); a name it does not know is NXDOMAIN at once."""
    server = FakeDns()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(
    database_url: str,
    jwks_server: HTTPServer,
    dns_server: FakeDns,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    return load_settings(
        {
            "env": "test",
            "database_url": database_url,
            "instance_path": Path(tmp_path_factory.mktemp("instance")),
            "client_id": CLIENT_ID,
            "facito_tenant_id": FACITO_TENANT,
            "authority_host": AUTHORITY,
            "jwks_url": jwks_server.url_for("/common/discovery/v2.0/keys"),
            "dev_issuer_enabled": False,
            "log_json": True,
            "log_level": "WARNING",
            "rate_limit": "100000/minute",
            "dns_nameservers": dns_server.address,
            "dns_timeout_seconds": 0.5,
        }
    )


@pytest.fixture(scope="session")
def process_runtime(settings: Settings) -> Iterator[Runtime]:
    """The runtime of the test process, built once (database, validator, queue, outbound)."""
    runtime = build_runtime(settings)
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, process_runtime: Runtime) -> Flask:
    return create_app(settings, runtime=process_runtime)


# Reference data that migrations seed (the product catalogue) stays; a test that adds rows
# there removes them itself.
SEEDED_TABLES = frozenset({"products"})
# Tables with seeded rows among the test's own: the seeded rows stay, the others go, and
# Facito's audit chain starts again from its genesis (migration 0006 seeds its head).
KEEP_SEEDED_ROWS = {
    "privacy_statement_versions": lambda t: t.c.id != SEED_STATEMENT_ID,
    "statement_changes": lambda t: t.c.statement_id != SEED_STATEMENT_ID,
}


# What an organisation kept by reset_database keeps: the row and its active federation, and
# its audit chain (started again from its genesis).
KEPT_WITH_ORGANISATION = frozenset({"organisations", "federations", "audit_chain_heads"})


def reset_database(runtime: Runtime, *, keep: Sequence[Org] = ()) -> None:
    """Remove every row the test wrote; ``keep`` organisations stay, active, with no history."""
    kept = [org.id for org in keep]
    with cross_organisation_session(runtime, reason="test cleanup") as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in KEEP_SEEDED_ROWS:
                session.execute(table.delete().where(KEEP_SEEDED_ROWS[table.name](table)))
            elif table.name == "facito_audit_chain_head":
                session.execute(table.update().values(seq=0, hash=genesis_hash("facito")))
            elif table.name == "schedule_leases":
                session.execute(
                    table.update().values(holder=None, expires_at=None, last_minute=None)
                )
            elif table.name == "federations" and kept:
                tenants = [org.tenant_id for org in keep]
                session.execute(
                    table.delete().where(
                        or_(table.c.organisation_id.not_in(kept), table.c.tenant_id.not_in(tenants))
                    )
                )
            elif table.name in KEPT_WITH_ORGANISATION and kept:
                column = table.c.id if table.name == "organisations" else table.c.organisation_id
                session.execute(table.delete().where(column.not_in(kept)))
            elif table.name not in SEEDED_TABLES:
                session.execute(table.delete())
        for org in keep:
            session.execute(
                Organisation.__table__.update()
                .where(Organisation.__table__.c.id == org.id)
                .values(status="active", status_reason=None)
            )
            session.execute(
                Base.metadata.tables["audit_chain_heads"]
                .update()
                .where(Base.metadata.tables["audit_chain_heads"].c.organisation_id == org.id)
                .values(seq=0, hash=genesis_hash(str(org.id)))
            )
            session.execute(
                Federation.__table__.update()
                .where(Federation.__table__.c.organisation_id == org.id)
                .values(status=FederationStatus.active.value)
            )


@pytest.fixture
def runtime(process_runtime: Runtime) -> Iterator[Runtime]:
    """The runtime, on a test database whose rows are all removed after the test (the app
    commits for real)."""
    yield process_runtime
    reset_database(process_runtime)


@pytest.fixture
def client(app: Flask, runtime: Runtime) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def served(app: Flask, runtime: Runtime) -> Iterator[int]:
    """The app on a real HTTP server on 127.0.0.1 (it dechunks bodies as servers do); its port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join()
    server.server_close()


@dataclass(frozen=True)
class Org:
    id: uuid.UUID
    slug: str
    tenant_id: str


def make_organisation(
    runtime: Runtime,
    slug: str,
    tenant_id: str | None,
    status: FederationStatus = FederationStatus.active,
) -> Org:
    ctx = RequestContext(principal=SYSTEM_PRINCIPAL, request_id="test-setup")
    with unit_of_work(runtime, organisation_id=None) as session:
        organisation = organisations.create_organisation(
            session,
            ctx,
            slug=slug,
            name=f"{slug.title()} B.V.",
            primary_region="transip-nl-amsterdam",
            backup_region="azure-de",
        )
        if tenant_id:
            session.add(
                Federation(
                    organisation_id=organisation.id,
                    tenant_id=tenant_id,
                    status=status,
                    consented_at=utcnow(),
                )
            )
        return Org(organisation.id, slug, tenant_id or "")


@pytest.fixture
def org_a(runtime: Runtime) -> Org:
    return make_organisation(runtime, "org-a", TENANT_A)


@pytest.fixture
def org_b(runtime: Runtime) -> Org:
    return make_organisation(runtime, "org-b", TENANT_B)


TokenFactory = Callable[..., str]


@pytest.fixture
def make_token(signing_key: RSAKey) -> TokenFactory:
    """Sign a token like Entra would: ``make_token(org_a, "Organisation.Admin", app=False)``."""

    def _make(
        org: Org | None = None,
        *roles: str,
        app: bool = False,
        oid: str | None = None,
        tenant_id: str | None = None,
        **extra: Any,
    ) -> str:
        tenant = tenant_id or (org.tenant_id if org else FACITO_TENANT)
        return mint_token(
            signing_key,
            authority_host=AUTHORITY,
            audience=CLIENT_ID,
            tenant_id=tenant,
            object_id=oid or str(uuid.uuid4()),
            roles=list(roles),
            app_only=app,
            extra=extra or None,
        )

    return _make


@pytest.fixture
def auth(make_token: TokenFactory) -> Callable[..., dict[str, str]]:
    """Headers for a call as ``auth(org_a, "Organisation.Admin")``."""

    def _headers(org: Org | None = None, *roles: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(org, *roles, **kwargs)}"}

    return _headers


@pytest.fixture
def operator(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth(None, "Facito.Operator")


def get_organisation_row(runtime: Runtime, organisation_id: uuid.UUID) -> Organisation:
    with runtime.session() as session:
        row = session.get(Organisation, organisation_id)
        assert row is not None
        return row
