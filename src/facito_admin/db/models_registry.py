"""Imports every model module so that Base.metadata knows all tables (Alembic, tests)."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "facito_admin.tenants.models",
    "facito_admin.audit.models",
    "facito_admin.http.idempotency_models",
    "facito_admin.jobs.models",
    "facito_admin.accounts.models",
    "facito_admin.products.models",
    "facito_admin.directory_sync.models",
    "facito_admin.policies.models",
    "facito_admin.groups.models",
    "facito_admin.scim.models",
    "facito_admin.webhooks.models",
)


def load_all() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
