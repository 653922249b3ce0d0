"""Installing the edge on an app: its hooks, in the one order that makes them right."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Flask, Response
from prometheus_client.registry import Collector

from ..runtime import Runtime
from .access import authorise_request
from .conditional import answer_not_modified
from .context import RUNTIME_EXTENSION
from .idempotency import init_idempotency
from .metrics import init_metrics
from .problems import register_problem_handlers
from .protocols import Protocol, register_protocol
from .ratelimits import init_rate_limits
from .request_ids import init_request_ids
from .transactions import AuditCheck, init_transactions
from .transparency import STAFF_ACCESS_EXTENSION, StaffAccess
from .urls import check_host

# The largest body any route takes (a 1,000-record batch fits well within it).
MAX_BODY_BYTES = 5 * 1024 * 1024


def _without_body(response: Response) -> Response:
    """204 and 304 carry no body, nor Content-Type or Content-Length (RFC 9110 §8.6, §15.3.5)."""
    if response.status_code in (204, 304):
        # set_data writes a Content-Length: the headers go after it (a 204 has none at all).
        response.set_data(b"")
        response.headers.remove("Content-Type")
        response.headers.remove("Content-Length")
    return response


def install_edge(
    app: Flask,
    runtime: Runtime,
    *,
    protocols: Sequence[Protocol],
    audit_recorded: AuditCheck,
    staff_access: StaffAccess,
    metrics: Iterable[Collector] = (),
) -> None:
    """Give ``app`` the runtime, the protocols it serves and the edge's hooks.

    Hook order matters: before_request functions run in registration order, after_request
    functions in the reverse one. Metrics first (they time everything and see the final
    status), then request ids, the host check, the rate limiter (429 before any work, token
    checks included), authorisation (404/403 before anything reads the request: no 415, 422
    or 428 can reveal another organisation), the transaction (415 and invalid JSON; commit
    after the answer), idempotency (claims after the limiter, stages its outcome before the
    commit and settles after it), and last the answers without a body (304 for a matching
    If-None-Match, and no Content-Type on 204/304), which therefore run first after the view.
    """
    app.extensions[RUNTIME_EXTENSION] = runtime
    app.extensions[STAFF_ACCESS_EXTENSION] = staff_access
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    for protocol in protocols:
        register_protocol(app, protocol)
    init_metrics(app, metrics)
    init_request_ids(app)
    app.before_request(check_host)
    init_rate_limits(app, runtime.settings)
    app.before_request(authorise_request)
    init_transactions(app, audit_recorded=audit_recorded)
    init_idempotency(app)
    app.after_request(_without_body)
    app.after_request(answer_not_modified)
    register_problem_handlers(app)
