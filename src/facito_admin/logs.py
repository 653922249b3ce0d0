"""JSON logs (structlog) with the request id on every line."""

from __future__ import annotations

import logging
import re
import sys
import uuid

import structlog
from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
# fullmatch, never match: `$` would let a trailing newline through into our headers and logs.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def configure_logging(level: str, *, json_lines: bool) -> None:
    """Route stdlib and structlog output through one JSON renderer on stderr."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # werkzeug's own access lines would duplicate ours.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # huey logs every periodic run at INFO (the reaper runs every minute).
    logging.getLogger("huey").setLevel(max(root.level, logging.WARNING))


def init_request_ids(app: Flask) -> None:
    """Accept a well-formed X-Request-ID or make one; echo it and bind it to every log line."""
    access = structlog.get_logger("facito_admin.access")

    @app.before_request
    def _bind_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        from .web import request_id

        response.headers[REQUEST_ID_HEADER] = request_id()
        rule = request.url_rule.rule if request.url_rule else None
        access.info("request", method=request.method, route=rule, status=response.status_code)
        return response
