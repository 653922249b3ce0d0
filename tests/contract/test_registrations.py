"""Nothing is forgotten where the app is put together: every model module, job module,
blueprint, protocol and permission the code defines is registered where it takes effect."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import flask
import flask_smorest
from flask import Flask

import facito_admin
from facito_admin.auth.permissions import (
    ROLE_PERMISSIONS,
    SCIM_TOKEN_PERMISSIONS,
    SELF_PERMISSIONS,
    Permission,
)
from facito_admin.db.base import Base
from facito_admin.domains import DOMAINS, ROOT, job_modules, model_modules
from facito_admin.http.access import REQUIRED_ATTR
from facito_admin.http.protocols import PROTOCOLS_EXTENSION
from facito_admin.jobs import registry
from facito_admin.jobs.registry import periodic_jobs
from facito_admin.scim import protocol as scim_protocol

# Periodic work and why it must run; a feature whose periodic job nobody schedules is dead.
PERIODIC_JOBS = {
    "account-purge-scan": "deleted accounts are purged after their grace period",
    "audit-prune-scan": "audit events are pruned past the organisation's audit.retention_days",
    "audit-sealing": "events a failed or killed sealer left waiting are linked into the chain",
    "audit-checkpoint-scan": "every chain head that moved is signed daily, so that its "
    "organisation holds proof Facito cannot rewrite",
    "directory-sync-schedule": "federations sync on their schedule",
    "dsr-deadline-scan": "data-subject requests' handlers hear before and when they fall due",
    "dsr-export-expiry": "a data-subject request's export is deleted when it expires",
    "idempotency-purge": "Idempotency-Key answers are kept 24 hours, not for ever",
    "incident-notice-scan": "an affected organisation hears of an incident even if the "
    "fan-out right after the change was interrupted",
    "offboarding-deletion": "an offboarded organisation's data goes after its return period",
    "retention-scan": "linked data is purged when its retention ends (unless held)",
    "statement-notice-scan": "every organisation hears of a new statement version",
    "support-access-expiry": "unanswered support requests expire and grants end, on the record",
    "webhook-delivery-sweep": "a delivery whose attempt job ended unrecorded is tried again",
}


def _all_modules() -> list[ModuleType]:
    found = []
    for info in pkgutil.walk_packages(facito_admin.__path__, "facito_admin."):
        if ".migrations." in info.name:
            continue
        found.append(importlib.import_module(info.name))
    return found


def _domains_contract() -> dict[str, Any]:
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    contracts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    [contract] = [c for c in contracts["contracts"] if c["id"] == "domains"]
    return contract


def test_every_top_level_module_is_kernel_composition_root_or_a_listed_domain():
    contract = _domains_contract()
    kernel, root = set(contract["kernel"]), set(contract["composition_root"])
    listed = [f"{ROOT}.{domain.package}" for domain in DOMAINS]
    top_level = {info.name for info in pkgutil.iter_modules(facito_admin.__path__, f"{ROOT}.")}
    assert len(listed) == len(set(listed)), "domains.py: a domain listed twice"
    assert not kernel & root
    # import-linter takes every other top-level module for a domain; the app imports only
    # what domains.py lists.
    assert top_level - kernel - root == set(listed), (
        "list the domain in domains.py, or the module in the kernel or composition root of "
        "pyproject.toml's domains contract"
    )


def test_every_module_that_defines_a_model_is_loaded_before_the_tables_are_read():
    defining = {
        module.__name__
        for module in _all_modules()
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, Base)
        and value is not Base
        and value.__module__ == module.__name__
    }
    assert defining
    assert defining == set(model_modules()), "domains.py: the domain's models"


def _source(module: ModuleType) -> str:
    return Path(module.__file__).read_text(encoding="utf-8") if module.__file__ else ""


def test_every_module_that_registers_jobs_is_loaded_by_every_worker():
    _all_modules()  # imports every module: each decorator registers what it defines
    registered = [handler.__module__ for handler in registry._HANDLERS.values()]
    registered += [job.function.__module__ for job in periodic_jobs()]
    # Tests register kinds of their own; those are not the app's.
    registering = {module for module in registered if module.startswith("facito_admin.")}
    assert registering == set(job_modules()), "domains.py: the domain's jobs"


def test_the_periodic_jobs_are_exactly_the_expected_ones():
    assert {job.name for job in periodic_jobs()} == set(PERIODIC_JOBS)


def test_every_blueprint_is_registered_on_the_app(app: Flask):
    defined = {
        value.name
        for module in _all_modules()
        for value in vars(module).values()
        if isinstance(value, flask.Blueprint | flask_smorest.Blueprint)
    }
    assert defined
    assert defined <= set(app.blueprints), "domains.py: the domain's views"


def test_every_protocol_is_served(app: Flask):
    prefixes = {protocol.prefix for protocol in app.extensions[PROTOCOLS_EXTENSION]}
    assert prefixes == {"/", scim_protocol.PREFIX}


def _required_by_routes(app: Flask) -> set[Permission]:
    required: set[Permission] = set()
    for view in app.view_functions.values():
        handlers = [view]
        view_class = getattr(view, "view_class", None)
        if view_class is not None:
            handlers = [
                getattr(view_class, m)
                for m in ("get", "post", "put", "patch", "delete")
                if hasattr(view_class, m)
            ]
        for handler in handlers:
            required |= set(getattr(handler, REQUIRED_ATTR, ()))
    return required


def test_every_permission_is_granted_to_someone_and_checked_somewhere(app: Flask):
    granted = set(SCIM_TOKEN_PERMISSIONS | SELF_PERMISSIONS).union(*ROLE_PERMISSIONS.values())
    # Checked by a route's @require, by the SCIM protocol, or by a view in its code.
    sources = "".join(
        _source(module) for module in _all_modules() if module.__name__ != Permission.__module__
    )
    checked = _required_by_routes(app) | {
        p for p in Permission if f"Permission.{p.name}" in sources
    }
    assert set(Permission) - granted == set(), "auth/permissions.py: no role grants these"
    assert set(Permission) - checked == set(), "nothing checks these: remove or use them"
