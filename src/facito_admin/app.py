"""The application factory."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import structlog
from flask import Flask, Response, g, request
from flask_swagger_ui import get_swaggerui_blueprint
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from .audit.service import AUDIT_RECORDED_KEY
from .auth.dev_issuer import load_or_create_key, public_keys
from .auth.tenants import register_tenant_directory
from .auth.tokens import KeyCache, TokenValidator, fetch_json
from .common.idempotency import IdempotencyKeyPlugin, init_idempotency
from .config import Settings, load_settings
from .db.models_registry import load_all
from .db.session import Database
from .jobs.queue import build_queue
from .logs import configure_logging, init_request_ids
from .metrics import init_metrics
from .problems import PROBLEM_CONTENT_TYPE, FacitoApi, problem_response, register_problem_handlers
from .ratelimits import init_rate_limits
from .web import SAFE_METHODS, Services, audit_exemption, authorise_request
from .webhooks.targets import WebhookConfig, attach_webhook_config

log = structlog.get_logger("facito_admin.audit")

API_VERSION = "1.0.0"
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


def build_services(settings: Settings) -> Services:
    """The long-lived parts: database, token validator (with its key cache), dev issuer key."""
    database = Database(settings.resolved_database_url)
    # Tokens' tenants → organisations, cached for a few seconds (auth/tenants.py).
    register_tenant_directory(database, ttl=settings.tenant_cache_seconds)
    # Sessions of this database enqueue jobs into it after commit (jobs/queue.py).
    build_queue(settings, database)
    # How webhooks check and reach receivers, for requests and jobs alike (webhooks/targets.py).
    attach_webhook_config(database, WebhookConfig.from_settings(settings))
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
    return Services(settings=settings, database=database, validator=validator, dev_key=dev_key)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build the app from settings (read from the environment when not given)."""
    settings = settings or (services.settings if services else load_settings())
    configure_logging(settings.log_level, json_lines=settings.log_json)
    load_all()
    app = FacitoFlask(__name__)
    app.config.update(
        API_TITLE="facito-admin",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS=_spec_options(),
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,
    )
    app.extensions["facito"] = services or build_services(settings)
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    # Hook order matters: before_request functions run in this order, after_request functions
    # in the reverse one. Metrics first (they time everything and see the final status), then
    # request ids, the rate limiter (429 before any work, token checks included), the
    # organisation confinement (404/403 before anything reads the request: no 415, 422 or 428
    # can reveal another organisation), the transaction (415 check; commit after the
    # response), and idempotency (claims after the limiter, stages its outcome before the
    # commit and settles after it).
    init_metrics(app)
    init_request_ids(app)
    init_rate_limits(app, settings)
    app.before_request(authorise_request)
    _init_transactions(app)
    init_idempotency(app)
    api = FacitoApi(app, spec_kwargs={"extra_plugins": [IdempotencyKeyPlugin()]})
    register_problem_handlers(app)

    from .accounts.views import blp as accounts_blp
    from .audit.facito_views import blp as facito_audit_blp
    from .audit.views import blp as audit_blp
    from .contracts.views import blp as contracts_blp
    from .directory_sync.views import blp as directory_syncs_blp
    from .jobs.views import blp as jobs_blp
    from .me.views import blp as me_blp
    from .ops.views import blp as ops_blp
    from .organisations.domain_views import blp as domains_blp
    from .organisations.federation_views import blp as federations_blp
    from .organisations.federation_views import consent_blp
    from .organisations.views import blp as organisations_blp
    from .organisations.views import registry_blp
    from .policies.effective_views import blp as effective_policy_blp
    from .policies.notice_views import blp as notices_blp
    from .policies.statement_views import blp as statements_blp
    from .products.views import blp as products_blp
    from .products.views import entitlements_blp
    from .scim.token_views import blp as scim_tokens_blp
    from .scim.views import blp as scim_blp
    from .webhooks.views import blp as webhooks_blp
    from .webhooks.views import event_types_blp

    for blueprint in (
        ops_blp,
        me_blp,
        organisations_blp,
        federations_blp,
        consent_blp,
        domains_blp,
        registry_blp,
        audit_blp,
        jobs_blp,
        accounts_blp,
        entitlements_blp,
        products_blp,
        directory_syncs_blp,
        contracts_blp,
        effective_policy_blp,
        statements_blp,
        notices_blp,
        facito_audit_blp,
        scim_tokens_blp,
        webhooks_blp,
        event_types_blp,
    ):
        api.register_blueprint(blueprint)
    # SCIM has its own contract (RFC 7644), outside the OpenAPI document.
    app.register_blueprint(scim_blp)

    app.register_blueprint(get_swaggerui_blueprint("/docs", "/openapi.json", config=_DOCS_CONFIG))
    return app


def _audited(session: Session | None, response: Response) -> bool:
    """False for a successful mutating request that recorded no audit event and is not exempt.

    Events count only in the request's own session (record_event bumps AUDIT_RECORDED_KEY);
    views that change nothing say so with web.audit_exempt. Requests that matched no route
    are left to their error answer.
    """
    if request.method in SAFE_METHODS or response.status_code >= 400:
        return True
    if request.url_rule is None or audit_exemption() is not None:
        return True
    return session is not None and session.info.get(AUDIT_RECORDED_KEY, 0) > 0


def _init_transactions(app: Flask) -> None:
    """One transaction per request: commit after a good response, roll back otherwise."""

    @app.before_request
    def _require_json_bodies() -> Response | None:
        if request.method in SAFE_METHODS:
            return None
        if not request.content_length and "chunked" not in request.headers.get(
            "Transfer-Encoding", ""
        ):
            return None
        mimetype = request.mimetype or ""
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            return problem_response(
                415, code="unsupported-media-type", detail="send the body as application/json"
            )
        body = request.get_data()
        limit = request.max_content_length
        if (
            request.content_length is None
            and limit is not None
            and len(body) >= limit
            and request.input_stream.read(1)
        ):
            # A chunked body has no Content-Length to refuse up front, and werkzeug stops
            # reading it at the limit without a word: the cut body would be invalid JSON (400).
            raise RequestEntityTooLarge()
        return _check_json_syntax(body)

    @app.after_request
    def _finish_transaction(response: Response) -> Response:
        session = g.pop("db_session", None)
        if not _audited(session, response):
            # Every change is audited in its own transaction (DESIGN: audit); a view that
            # forgot must fail loudly rather than commit an unaudited change.
            if session is not None:
                session.rollback()
                session.close()
            log.error(
                "mutation_without_audit_event",
                method=request.method,
                endpoint=request.endpoint,
                status=response.status_code,
            )
            return problem_response(
                500,
                code="audit-event-missing",
                title="Internal server error",
                detail="the change was not recorded in the audit log, so it was undone",
            )
        if session is None:
            return response
        try:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        except Exception as error:  # noqa: BLE001 - a failed commit must still answer problem+json
            session.rollback()
            session.close()
            return app.handle_user_exception(error)  # type: ignore[return-value]
        session.close()
        return response

    @app.teardown_request
    def _close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def _check_json_syntax(body: bytes) -> Response | None:
    """400 for a body that is not JSON, one answer for every route.

    webargs would answer malformed JSON itself, but lets the RecursionError of a deeply nested
    body escape as a 500; parsing once here catches both.
    """
    try:
        json.loads(body)
    except RecursionError:
        detail = "the JSON body nests too deeply"
    except ValueError as error:
        detail = f"the body is not valid JSON: {error}"[:300]
    else:
        return None
    return problem_response(
        400,
        code="invalid-json",
        title="Invalid JSON",
        detail=detail,
        errors=[{"field": "_body", "location": "json", "message": detail}],
    )


__all__ = ["PROBLEM_CONTENT_TYPE", "create_app"]
