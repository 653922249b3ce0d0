"""Request ids: a well-formed X-Request-ID is kept, otherwise one is made; echoed and logged."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from flask import Flask, Response, g, request

from ..logs import log_access
from .context import request_id

REQUEST_ID_HEADER = "X-Request-ID"
# fullmatch, never match: `$` would let a trailing newline through into our headers and logs.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def init_request_ids(app: Flask) -> None:
    """Accept a well-formed X-Request-ID or make one; echo it and bind it to every log line."""

    @app.before_request
    def _bind_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_started = time.perf_counter()
        g.request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = request_id()
        started = g.get("request_started")
        log_access(
            method=request.method,
            route=request.url_rule.rule if request.url_rule else None,
            status=response.status_code,
            duration_ms=None
            if started is None
            else round((time.perf_counter() - started) * 1e3, 2),
            # The peer, or the client a trusted proxy names (FACITO_TRUSTED_PROXIES, ProxyFix).
            client=request.remote_addr,
        )
        return response
