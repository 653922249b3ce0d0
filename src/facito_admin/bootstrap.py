"""Building the runtime: the one place that puts a process's long-lived parts together."""

from __future__ import annotations

import gc

from .auth.audit_keys import load_audit_keys
from .auth.dev_issuer import load_or_create_key, public_keys
from .auth.microsoft import EntraApps
from .auth.tenants import TenantDirectory
from .auth.tokens import KeyCache, TokenValidator, fetch_json
from .config import Settings
from .db.session import Database
from .domains import load_jobs, load_models
from .jobs.queue import build_queue
from .jobs.tasks import install_tasks
from .outbound import GraphAccess, WebhookConfig
from .runtime import Runtime
from .tenants.lookups import find_tenant_organisation, organisation_exists


def build_runtime(settings: Settings) -> Runtime:
    """The runtime of ``settings``: database, identity, job queue (with its tasks), outbound."""
    load_models()
    database = Database(settings.resolved_database_url)
    verify: str | bool = settings.ca_bundle or True
    remote = KeyCache(
        settings.jwks_url,
        ttl=settings.jwks_cache_seconds,
        min_refresh=settings.jwks_min_refresh_seconds,
        fetch=fetch_json(settings.http_timeout_seconds, verify),
    )
    dev_key = load_or_create_key(settings.instance_path) if settings.uses_dev_issuer else None
    validator = TokenValidator(
        audience=settings.client_id,
        authority_host=settings.authority_host,
        remote_keys=remote,
        local_keys=public_keys(dev_key) if dev_key else None,
        leeway=settings.clock_leeway_seconds,
    )
    # Tokens' tenants → organisations, cached for a few seconds (auth/tenants.py).
    tenants = TenantDirectory(
        database,
        ttl=settings.tenant_cache_seconds,
        find_tenant=find_tenant_organisation,
        organisation_exists=organisation_exists,
    )
    entra = EntraApps.from_settings(settings)
    queue = build_queue(settings)
    runtime = Runtime(
        settings=settings,
        database=database,
        validator=validator,
        tenants=tenants,
        queue=queue,
        entra=entra,
        graph=GraphAccess.from_settings(settings, entra),
        webhooks=WebhookConfig.from_settings(settings),
        audit_keys=load_audit_keys(settings),
        dev_key=dev_key,
    )
    # Sessions of this runtime enqueue jobs into its queue after commit (jobs/queue.py); the
    # queue checks a job's kind against the handlers and schedules the periodic jobs.
    load_jobs()
    install_tasks(queue, runtime)
    return runtime


def settle_startup_heap() -> None:
    """Leave what the process built at start-up out of the garbage collector's walks, and
    collect the young generation less often (`gunicorn wsgi:app` and `facito-admin worker`).

    Modules, models, schemas and compiled statements live as long as the process, yet every
    full collection walked them all again: in a 100,000-user directory sync the worker spent
    6.8 s collecting, 5.4 s of it in 20 full collections (bench/directory_sync.py, issue 13).
    ``gc.freeze`` moves them to a generation no collection visits (3.3 s left), and a young
    generation of 10,000 objects instead of 700 lets a page's or a request's short-lived
    objects die before a collection promotes them (2.4 s left, 5 full collections).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
