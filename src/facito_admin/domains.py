"""The domains: the one list from which the app, the workers and Alembic learn what to import.

A domain is a top-level package that is neither the kernel nor the composition root
(pyproject.toml: [tool.importlinter], contract "domains"). Its tables, job handlers and
blueprints take effect only when their modules are imported, so each domain names those
modules here, once; tests/contract/test_registrations.py fails when one is missing.
README.md: "Adding a domain".
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from flask import Blueprint

ROOT = "facito_admin"


@dataclass(frozen=True)
class Domain:
    """A domain package and its modules that take effect only when imported."""

    package: str
    # Modules defining tables: imported before anyone reads Base.metadata (Alembic, the app).
    models: tuple[str, ...] = ()
    # Modules with @job_handler or @periodic_job: imported by every process that builds a
    # runtime, before its queue gets its tasks (bootstrap.py).
    jobs: tuple[str, ...] = ()
    # Modules whose blueprints the app serves, in this order (the OpenAPI document's order).
    views: tuple[str, ...] = ()

    def modules(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """The absolute names of ``names``, modules of this domain's package."""
        return tuple(f"{ROOT}.{self.package}.{name}" for name in names)


# In the order of the OpenAPI document; the order matters for nothing else.
DOMAINS: tuple[Domain, ...] = (
    Domain("ops", views=("views",)),
    Domain("me", views=("views", "preference_views", "data_views", "request_views")),
    Domain("tenants", models=("models",)),
    Domain("organisations", views=("views", "federation_views", "domain_views")),
    Domain("audit", models=("models",), views=("views", "facito_views")),
    # The audit log's jobs (pruning, sealing): audit cannot import jobs or policies (both
    # import audit).
    Domain("audit_retention", jobs=("tasks", "sealing")),
    # Checkpoints on request and daily, as webhooks: audit cannot import webhooks or jobs.
    Domain("audit_checkpoints", jobs=("tasks",), views=("views",)),
    Domain("jobs", models=("models",), jobs=("housekeeping",), views=("views",)),
    Domain("accounts", models=("models",), views=("views", "entitlement_views")),
    Domain("products", models=("models",), views=("views",)),
    Domain("directory_sync", models=("models",), jobs=("tasks",), views=("views",)),
    Domain(
        "policies",
        models=("models",),
        jobs=("notices.tasks",),
        views=("contracts.views", "effective.views", "statements.views", "notices.views"),
    ),
    Domain("user_data", models=("models",), views=("views",)),
    Domain("consents", models=("models",), views=("views",)),
    Domain("retention", models=("models",), jobs=("runs", "account_purge"), views=("views",)),
    Domain(
        "subject_requests",
        models=("models",),
        jobs=(
            "deadline_scan",
            "export",
            "fulfilment.erasure",
            "fulfilment.rectification",
            "fulfilment.restriction",
            "fulfilment.preferences",
        ),
        views=("views", "facito_views", "restriction_views"),
    ),
    Domain("support_access", models=("models",), jobs=("expiry",), views=("views",)),
    Domain(
        "incidents",
        models=("models",),
        jobs=("fanout",),
        views=("views", "notice_views"),
    ),
    Domain("groups", models=("models",)),
    Domain("scim", models=("models",), views=("token_views", "views")),
    Domain("webhooks", models=("models",), jobs=("tasks",), views=("views",)),
    Domain("offboarding", models=("models",), jobs=("exports", "deletion"), views=("views",)),
)

# Tables outside the domains: the HTTP edge's Idempotency-Key answers.
KERNEL_MODELS: tuple[str, ...] = ("facito_admin.http.idempotency_models",)


def model_modules() -> tuple[str, ...]:
    """Every module that defines a table."""
    return KERNEL_MODELS + tuple(name for d in DOMAINS for name in d.modules(d.models))


def job_modules() -> tuple[str, ...]:
    """Every module that registers a job handler or a periodic job."""
    return tuple(name for d in DOMAINS for name in d.modules(d.jobs))


def view_modules() -> tuple[str, ...]:
    """Every module whose blueprints the app serves, in order."""
    return tuple(name for d in DOMAINS for name in d.modules(d.views))


def load_models() -> None:
    """Import every table, so that Base.metadata knows them all."""
    for name in model_modules():
        importlib.import_module(name)


def load_jobs() -> None:
    """Import every job handler and periodic job, so that the registry knows them all."""
    for name in job_modules():
        importlib.import_module(name)


def blueprints() -> list[Blueprint]:
    """The blueprints the app serves: those each view module defines, in definition order."""
    found: list[Blueprint] = []
    for name in view_modules():
        module = importlib.import_module(name)
        # A blueprint imported from another module is served by that module's entry.
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, Blueprint) and value.import_name == name
        ]
    return found
