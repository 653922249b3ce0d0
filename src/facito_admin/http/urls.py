"""Absolute URLs from the configured public address, never from the request's Host.

A Host header is the client's to write: reflected into `Link`, `Location` or a SCIM
`meta.location`, it would let anyone make the API hand out links to another site (and poison a
cache in front of it). Every absolute URL starts with ``FACITO_PUBLIC_BASE_URL``; in production
a request naming another host is refused (400), health probes excepted (load balancers probe
by address).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from ..common.pagination import Page
from ..config import Environment
from .context import runtime
from .problems import problem_response

# Load balancers and orchestrators probe these by the instance's address.
PROBE_PATHS = frozenset({"/livez", "/readyz", "/metrics"})


def absolute_url(path: str) -> str:
    """``path`` (starting with `/`) under the API's public address."""
    return runtime().settings.public_base_url + path


def check_host() -> Response | None:
    """before_request, production only: 400 for a request to a host that is not ours."""
    settings = runtime().settings
    if settings.env is not Environment.production or request.path in PROBE_PATHS:
        return None
    if request.host.lower() == settings.public_host:
        return None
    return problem_response(
        400,
        code="unknown-host",
        title="Unknown host",
        detail="this API answers only at its public address",
    )


def _query_value(value: Any) -> Any:
    """A parsed argument as the query string spells it (QueryBoolean reads `true`/`false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else value


def next_page_link(args: Mapping[str, Any], next_cursor: str | None) -> dict[str, str]:
    """`Link: <…>; rel="next"` to this list's next page, keeping the caller's other arguments."""
    if not next_cursor:
        return {}
    query = {
        key: _query_value(value)
        for key, value in args.items()
        if value is not None and key != "cursor"
    }
    query["cursor"] = next_cursor
    return {"Link": f'<{absolute_url(request.path)}?{urlencode(query, doseq=True)}>; rel="next"'}


def page_response(
    page: Page[Any], args: Mapping[str, Any]
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A list answer: `{items, next_cursor}`, and a `Link: rel="next"` keeping the filters."""
    body = {"items": page.items, "next_cursor": page.next_cursor}
    return body, 200, next_page_link(args, page.next_cursor)
