"""The application factory."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from flask import Flask, request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_swagger_ui import get_swaggerui_blueprint
from werkzeug.middleware.proxy_fix import ProxyFix

from .audit.service import events_recorded
from .auth.context import Principal
from .bootstrap import build_runtime
from .config import Settings, load_settings
from .domains import blueprints
from .http import Protocol, declared_permissions, entra_principal, problem_json
from .http.edge import install_edge
from .http.idempotency import IdempotencyKeyPlugin
from .http.openapi import FacitoApi
from .logs import configure_logging
from .observability import metric_collectors
from .runtime import Runtime
from .scim.protocol import DESCRIPTION as SCIM_DESCRIPTION
from .scim.protocol import SCIM
from .support_access.lookups import STAFF_ACCESS

# The document's version is the package's (pyproject.toml).
API_VERSION = version("facito-admin")
# Swagger UI must load nothing from another host (tests/contract/test_docs.py): its default
# validatorUrl sends the document to validator.swagger.io, and flask-swagger-ui would otherwise
# write an absolute oauth2RedirectUrl built from the request's host.
_DOCS_CONFIG = {
    "app_name": "facito-admin",
    "validatorUrl": None,
    "oauth2RedirectUrl": "/docs/oauth2-redirect.html",
}


class FacitoFlask(Flask):
    """Flask that asks once per function whether it is a coroutine function.

    Flask checks every hook and view with `inspect.iscoroutinefunction` on every request
    (about twenty per request here, a measurable share of a list request: see
    bench/list_accounts.py); the answer never changes for a given function.
    """

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self._sync_functions: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self._sync_functions:
                return func
        except TypeError:  # unhashable: no shortcut
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if wrapped is func and len(self._sync_functions) < 10_000:
            self._sync_functions.add(func)
        return wrapped


def _spec_options() -> dict[str, Any]:
    return {
        "info": {
            "description": "Multi-tenant admin API for Facito customer organisations. Errors are "
            "RFC 9457 problem details; lists are keyset-paginated; POSTs accept Idempotency-Key.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Entra ID v2 access token (or a development token from "
                    "`facito-admin dev-token`)",
                }
            }
        },
        "security": [{"bearerAuth": []}],
    }


def _own_organisation(principal: Principal) -> uuid.UUID | None:
    """Routes under /v1/me act in the caller's own organisation (their account, their data)."""
    if request.path == "/v1/me" or request.path.startswith("/v1/me/"):
        return principal.organisation_id
    return None


# REST: Entra ID tokens, permissions declared on each view with @require, RFC 9457 errors;
# the organisation of a request is the one in its path (under /v1/me: the caller's own).
REST = Protocol(
    name="rest",
    prefix="/",
    realm="facito-admin",
    authenticate=entra_principal,
    required_permissions=declared_permissions,
    organisation_of=_own_organisation,
    render_problem=problem_json,
)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Build the app from settings (read from the environment when not given)."""
    settings = settings or (runtime.settings if runtime else load_settings())
    configure_logging(settings.log_level, json_lines=settings.logs_as_json)
    runtime = runtime or build_runtime(settings)
    app = FacitoFlask(__name__)
    app.config.update(
        API_TITLE="facito-admin",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS=_spec_options(),
    )
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    install_edge(
        app,
        runtime,
        protocols=[REST, SCIM],
        audit_recorded=events_recorded,
        staff_access=STAFF_ACCESS,
        metrics=metric_collectors(runtime),
    )
    api = FacitoApi(app, spec_kwargs={"extra_plugins": [IdempotencyKeyPlugin()]})

    # The REST blueprints (flask-smorest) make the document; SCIM has its own contract
    # (RFC 7644) and a plain Flask blueprint, described only under its own tag.
    for blueprint in blueprints():
        if isinstance(blueprint, SmorestBlueprint):
            api.register_blueprint(blueprint)
        else:
            app.register_blueprint(blueprint)
    # Links need every operation registered first.
    api.finish_document()
    api.spec.tag({"name": "scim", "description": SCIM_DESCRIPTION})

    app.register_blueprint(get_swaggerui_blueprint("/docs", "/openapi.json", config=_DOCS_CONFIG))
    return app


__all__ = ["create_app"]
