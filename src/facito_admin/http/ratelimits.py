"""Rate limits: one budget per organisation and client, per address otherwise.

The budget (``FACITO_RATE_LIMIT``, `limits` notation, several separated by `;`) is shared by
all routes of a caller, counted in fixed windows that start at the caller's first request. The
counters live in ``FACITO_RATE_LIMIT_STORAGE_URL``: `memory://` keeps them in the process
(:class:`LocalWindows`), anything else is a storage of the `limits` package (Redis, shared by
every process and machine). Answers carry ``RateLimit-*`` headers; a 429 also ``Retry-After``.

A hook of our own rather than flask-limiter: flask-limiter's request machinery and the
timer thread its memory storage starts every 10 ms cost about a tenth of a list request
(bench/list_accounts.py); the windows and storages are the same `limits` ones underneath.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from flask import Flask, Response, g, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from ..config import Settings
from .access import authenticated_or_none

# Probes, scrapers and the documentation are never limited.
EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/metrics", "/openapi.json", "/docs"})
KEY_PREFIX = "facito"
log = structlog.get_logger("facito_admin.ratelimits")


def rate_limit_key() -> str:
    """The organisation and client of a valid token; the remote address otherwise."""
    principal = authenticated_or_none()
    if principal is not None:
        return f"client:{principal.organisation_id or 'facito'}:{principal.client_key}"
    return f"address:{request.remote_addr or 'unknown'}"


def _exempt(path: str) -> bool:
    return path in EXEMPT_PATHS or path.startswith("/docs/")


@dataclass(frozen=True)
class Window:
    """One limit's state for one caller after counting a request."""

    limit: RateLimitItem
    allowed: bool
    remaining: int
    reset_at: float


class Counter(Protocol):
    def hit(self, limit: RateLimitItem, key: str) -> Window: ...


class LocalWindows:
    """Fixed windows counted in this process (`memory://`): each worker has its own budget.

    Expired windows are swept every ``sweep_every`` hits, so memory follows the callers of the
    last window.
    """

    def __init__(self, clock: Callable[[], float] = time.time, sweep_every: int = 10_000):
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._hits = 0
        self._sweep_every = sweep_every

    def hit(self, limit: RateLimitItem, key: str) -> Window:
        name = limit.key_for(KEY_PREFIX, key)
        now = self._clock()
        with self._lock:
            ends, count = self._windows.get(name, (0.0, 0))
            if now >= ends:
                ends, count = now + limit.get_expiry(), 0
            count += 1
            self._windows[name] = (ends, count)
            self._hits += 1
            if self._hits >= self._sweep_every:
                self._hits = 0
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        return Window(limit, count <= limit.amount, max(0, limit.amount - count), ends)


class SharedWindows:
    """Fixed windows in a `limits` storage (Redis): one budget across processes and machines."""

    def __init__(self, url: str) -> None:
        self._limiter = FixedWindowRateLimiter(storage_from_string(url))

    def hit(self, limit: RateLimitItem, key: str) -> Window:
        allowed = self._limiter.hit(limit, KEY_PREFIX, key)
        stats = self._limiter.get_window_stats(limit, KEY_PREFIX, key)
        return Window(limit, allowed, stats.remaining, stats.reset_time)


def counter_for(url: str) -> Counter:
    return LocalWindows() if url.startswith("memory://") else SharedWindows(url)


class RateLimiter:
    """Counts each request against every limit of the budget; 429 when one is exhausted."""

    def __init__(self, limits: Sequence[RateLimitItem], counter: Counter) -> None:
        self.limits = list(limits)
        self.counter = counter

    def check(self, key: str) -> Window | None:
        """Count a request of ``key``; the window to report (the tightest, or the one hit).

        None when the store failed: an unreachable limit store must not take the API down,
        so the request passes (fail open) and the failure is logged.
        """
        try:
            windows = [self.counter.hit(limit, key) for limit in self.limits]
        except Exception as error:  # noqa: BLE001 - any storage failure: fail open
            log.warning("rate_limit_store_failed", error=type(error).__name__)
            return None
        refused = [w for w in windows if not w.allowed]
        if refused:
            return refused[0]
        return min(windows, key=lambda w: w.remaining)


def init_rate_limits(app: Flask, settings: Settings) -> RateLimiter:
    """Limit every request but the exempt paths with the configured budget and storage."""
    limiter = RateLimiter(
        parse_many(settings.rate_limit), counter_for(settings.rate_limit_storage_url)
    )
    app.extensions["facito_rate_limiter"] = limiter

    @app.before_request
    def _count_request() -> None:
        if _exempt(request.path):
            return
        window = limiter.check(rate_limit_key())
        if window is None:
            return
        g.rate_limit_window = window
        if not window.allowed:
            raise TooManyRequests(f"rate limit exceeded: {window.limit}")

    @app.after_request
    def _rate_limit_headers(response: Response) -> Response:
        window: Window | None = g.get("rate_limit_window")
        if window is None:
            return response
        reset = max(0, int(window.reset_at - time.time()))
        amount = window.limit.amount
        response.headers["RateLimit-Limit"] = str(amount)
        response.headers["RateLimit-Remaining"] = str(window.remaining)
        response.headers["RateLimit-Reset"] = str(reset)
        response.headers["RateLimit-Policy"] = f"{amount};w={window.limit.get_expiry()}"
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(1, reset))
        return response

    return limiter
