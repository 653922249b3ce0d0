"""Rate limits (flask-limiter): one budget per organisation and client, per address otherwise.

The budget (``FACITO_RATE_LIMIT``) is shared by all routes of a caller; its counters live in
``FACITO_RATE_LIMIT_STORAGE_URL`` (memory per process by default, Redis when several processes
or machines serve the API). Answers carry ``RateLimit-*`` headers; a 429 also ``Retry-After``.
"""

from __future__ import annotations

import time

from flask import Flask, Response, request
from flask_limiter import Limiter

from .config import Settings
from .web import authenticated_or_none

# Probes, scrapers and the documentation are never limited.
EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/metrics", "/openapi.json", "/docs"})


def rate_limit_key() -> str:
    """The organisation and client of a valid token; the remote address otherwise."""
    principal = authenticated_or_none()
    if principal is not None:
        return f"client:{principal.organisation_id or 'facito'}:{principal.client_key}"
    return f"address:{request.remote_addr or 'unknown'}"


def _exempt() -> bool:
    return request.path in EXEMPT_PATHS or request.path.startswith("/docs/")


def init_rate_limits(app: Flask, settings: Settings) -> Limiter:
    """Bind a limiter with the configured budget and storage to the app."""
    limiter = Limiter(
        rate_limit_key,
        application_limits=[settings.rate_limit],
        storage_uri=settings.rate_limit_storage_url,
        strategy="fixed-window",
        key_prefix="facito",
        # Our own headers below (IETF draft names, reset as seconds, not an epoch).
        headers_enabled=False,
        # An unreachable limit store must not take the API down: fail open, and log it.
        swallow_errors=True,
    )
    limiter.request_filter(_exempt)
    limiter.init_app(app)

    @app.after_request
    def _rate_limit_headers(response: Response) -> Response:
        current = limiter.current_limit
        if current is None:
            return response
        try:
            reset = max(0, int(current.reset_at - time.time()))
            remaining = max(0, current.remaining)
        except Exception:  # noqa: BLE001 - the store may be unreachable; the answer stands
            return response
        window = current.limit.get_expiry()
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(remaining)
        response.headers["RateLimit-Reset"] = str(reset)
        response.headers["RateLimit-Policy"] = f"{current.limit.amount};w={window}"
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(1, reset))
        return response

    return limiter
