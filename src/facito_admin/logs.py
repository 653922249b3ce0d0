"""JSON logs (structlog) with the request id on every line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import structlog


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
    global _json_handler  # noqa: PLW0603 - the one handler of the process, set at start
    handler = logging.StreamHandler(sys.stderr)
    _json_handler = handler if json_lines else None
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


_json_handler: logging.StreamHandler[Any] | None = None
ACCESS_LOGGER = "facito_admin.access"


def log_access(**fields: Any) -> None:
    """The access line of a request: `request` at INFO on the access logger.

    With JSON lines (production) it is rendered here, in the shape the structlog chain gives
    every other line (the fields, `event`, the bound context such as `request_id`, `level`,
    `logger`, `timestamp`), and written to the log stream under the handler's lock: one line
    per request through structlog, logging and the formatter cost about 5 % of a list
    request (bench/list_accounts.py).
    """
    logger = logging.getLogger(ACCESS_LOGGER)
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _json_handler
    if handler is None or logging.getLogger().handlers != [handler]:
        # Console lines, or someone else's handlers (tests capturing logs): the usual path.
        structlog.get_logger(ACCESS_LOGGER).info("request", **fields)
        return
    event = {**fields, "event": "request", **structlog.contextvars.get_contextvars()}
    event.update(
        level="info",
        logger=ACCESS_LOGGER,
        timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    )
    line = json.dumps(event, default=str) + "\n"
    handler.acquire()
    try:
        handler.stream.write(line)
        handler.flush()
    finally:
        handler.release()
