"""`facito-admin`: migrate, mint development tokens, seed the demo, serve, run the worker."""

from __future__ import annotations

import sys
import uuid

import click
from sqlalchemy import select

from .config import ConfigurationError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


def _migrated(settings: Settings) -> Settings:
    """``settings``, once their database is at the latest migration; else one line with the fix."""
    from .db.migrations import unmigrated_reason

    reason = unmigrated_reason(settings.resolved_database_url)
    if reason is not None:
        raise click.ClickException(f"{reason}: run `facito-admin db upgrade` first")
    return settings


@click.group()
@click.version_option(package_name="facito-admin", prog_name="facito-admin")
def main() -> None:
    """facito-admin: the Facito organisation admin API."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations (SQLite or PostgreSQL), then grant FACITO_DATABASE_APP_ROLE its rights."""
    import os

    from .db.migrations import upgrade

    settings = _settings()
    url = os.environ.get("FACITO_MIGRATION_DATABASE_URL") or settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(url, app_role=os.environ.get("FACITO_DATABASE_APP_ROLE"), revision=revision)
    click.echo(f"database at {revision}")


def _tenant_for(settings: Settings, org_slug: str | None, role: str) -> str:
    from .auth.permissions import STAFF_ROLES, AppRole
    from .db.session import Database
    from .tenants.models import Federation, FederationStatus, Organisation

    if AppRole(role) in STAFF_ROLES:
        return settings.facito_tenant_id
    if not org_slug:
        raise click.UsageError("--org is required for organisation roles")
    _migrated(settings)
    database = Database(settings.resolved_database_url)
    with database.session() as session:
        tenant = session.scalar(
            select(Federation.tenant_id)
            .join(Organisation, Organisation.id == Federation.organisation_id)
            .where(Organisation.slug == org_slug, Federation.status == FederationStatus.active)
        )
    database.dispose()
    if tenant is None:
        raise click.ClickException(f"no organisation {org_slug!r} with an active federation")
    return tenant


@main.command("dev-token")
@click.option("--org", "org_slug", help="Organisation slug (not needed for Facito staff roles)")
@click.option(
    "--role",
    "roles",
    multiple=True,
    default=["Organisation.Admin"],
    show_default=True,
    help="App role; repeat for several",
)
@click.option("--app", "app_only", is_flag=True, help="App-only token (client credentials)")
@click.option("--oid", default=None, help="Object id (default: a stable one per role)")
@click.option("--hours", default=8, show_default=True, type=click.IntRange(1, 24))
def dev_token(
    org_slug: str | None, roles: tuple[str, ...], app_only: bool, oid: str | None, hours: int
) -> None:
    """Print a development access token (development issuer only)."""
    from .auth.dev_issuer import load_or_create_key, mint_token
    from .auth.permissions import AppRole

    settings = _settings()
    if not settings.uses_dev_issuer:
        raise click.ClickException("the development issuer is disabled (FACITO_DEV_ISSUER_ENABLED)")
    known = {r.value for r in AppRole}
    for role in roles:
        if role not in known:
            raise click.BadParameter(
                f"{role!r}; one of {', '.join(sorted(known))}", param_hint="--role"
            )
    tenant = _tenant_for(settings, org_slug, roles[0])
    object_id = oid or str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"facito-dev:{tenant}:{','.join(roles)}:{app_only}")
    )
    token = mint_token(
        load_or_create_key(settings.instance_path),
        authority_host=settings.authority_host,
        audience=settings.client_id,
        tenant_id=tenant,
        object_id=object_id,
        roles=list(roles),
        app_only=app_only,
        name=f"Dev {'app' if app_only else 'user'} ({', '.join(roles)})",
        lifetime_seconds=hours * 3600,
    )
    click.echo(token)


@main.command("demo")
def demo() -> None:
    """Create the demo organisation with a federated demo tenant (development only)."""
    from .bootstrap import build_runtime
    from .config import Environment
    from .demo import ensure_demo_organisation

    settings = _settings()
    if settings.env is Environment.production:
        raise click.ClickException("the demo organisation is for development only")
    runtime = build_runtime(_migrated(settings))
    try:
        organisation = ensure_demo_organisation(runtime)
    finally:
        runtime.dispose()
    click.echo(f"demo organisation {organisation.slug} ({organisation.id})")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--org", "org_slug", required=True, help="Organisation slug")
def audit_verify(org_slug: str) -> None:
    """Recompute an organisation's audit hash chain; exit 1 when it is broken."""
    import json

    from .audit.verification import verify_organisation_chain
    from .db.session import Database
    from .tenants.models import Organisation

    database = Database(_migrated(_settings()).resolved_database_url)
    try:
        with database.session() as lookup:
            organisation_id = lookup.scalar(
                select(Organisation.id).where(Organisation.slug == org_slug)
            )
        if organisation_id is None:
            raise click.ClickException(f"no organisation {org_slug!r}")
        with database.session(organisation_id=organisation_id) as session:
            report = verify_organisation_chain(session)
    finally:
        database.dispose()
    broken, pruned = report.first_broken, report.pruned
    click.echo(
        json.dumps(
            {
                "organisation": org_slug,
                "valid": report.valid,
                "checked": report.checked,
                "first_broken": None
                if broken is None
                else {"seq": broken.seq, "event_id": broken.event_id, "reason": broken.reason},
                "pruned": None
                if pruned is None
                else {
                    "through_seq": pruned.seq,
                    "count": pruned.count,
                    "at": pruned.at.isoformat(),
                },
            },
            indent=2,
        )
    )
    if broken is not None:
        sys.exit(1)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--with-worker/--without-worker",
    default=None,
    help="Run a job consumer in this process (default: on in development only)",
)
def serve(host: str, port: int, with_worker: bool | None) -> None:
    """Run the development server (use gunicorn wsgi:app in production)."""
    from .app import create_app
    from .bootstrap import build_runtime
    from .config import Environment
    from .jobs.queue import queue_of
    from .jobs.worker import EmbeddedConsumer

    settings = _migrated(_settings())
    runtime = build_runtime(settings)
    app = create_app(settings, runtime=runtime)
    if with_worker is None:
        with_worker = settings.env is Environment.development
    consumer = None
    if with_worker:
        consumer = EmbeddedConsumer(queue_of(runtime), workers=settings.worker_threads)
        consumer.start_in_background()
        click.echo(f"job consumer running in-process ({settings.worker_threads} threads)")
    # werkzeug's own start-up lines are silenced with its request lines (logs.py).
    click.echo(f"serving on http://{host}:{port} (Ctrl-C stops)")
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False)
    finally:
        if consumer is not None:
            consumer.shutdown(timeout=10)


@main.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker threads [default: FACITO_WORKER_THREADS, 2]",
)
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also run periodic tasks (the job reaper, scheduled syncs) in this consumer",
)
def worker(workers: int | None, periodic: bool) -> None:
    """Run the background job consumer until SIGINT or SIGTERM."""
    from .bootstrap import build_runtime, settle_startup_heap
    from .jobs.queue import queue_of
    from .jobs.worker import run_consumer
    from .logs import configure_logging
    from .observability import serve_metrics

    settings = _migrated(_settings())
    configure_logging(settings.log_level, json_lines=settings.logs_as_json)
    runtime = build_runtime(settings)
    queue = queue_of(runtime)
    threads = workers or settings.worker_threads
    metrics = ""
    if settings.worker_metrics_port is not None:
        serve_metrics(runtime, settings.worker_metrics_host, settings.worker_metrics_port)
        metrics = (
            f", metrics on http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/"
        )
    click.echo(
        f"facito-admin worker ready: queue {queue.describe()}, {threads} worker "
        f"thread{'' if threads == 1 else 's'}, periodic schedule "
        f"{'on (one worker of the deployment runs it at a time)' if periodic else 'off'}{metrics}"
    )
    settle_startup_heap()
    try:
        run_consumer(queue, workers=threads, periodic=periodic)
    finally:
        runtime.dispose()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
