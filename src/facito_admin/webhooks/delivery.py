"""One delivery attempt over HTTP: sign, connect to the checked address, classify the answer.

The request goes to the address that targets.check_target returned just before, with the URL's
host name for TLS (SNI and certificate check) and the Host header: the name is not resolved a
second time, so a DNS answer that changes between check and connect cannot redirect us inside.
Redirects are not followed (a 3xx is a failed attempt), timeouts are short, and only a short
excerpt of the answer is kept.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import urllib3
from prometheus_client import Counter, Histogram
from standardwebhooks import Webhook
from urllib3.exceptions import HTTPError

from ..common.schemas import UNSTORABLE
from ..outbound import WebhookConfig
from .targets import Target, WebhookUrlRefused, check_target

EXCERPT_BYTES = 512
EXCERPT_CHARS = 200
USER_AGENT = "facito-admin-webhooks/1"
NOT_SENT = "not sent: "

# By outcome: delivered (2xx), receiver_error (any other status), network_error (no answer:
# refused, timed out, TLS), refused (not sent: the URL's address is not allowed).
DELIVERY_ATTEMPTS = Counter(
    "facito_webhook_delivery_attempts",
    "Webhook delivery attempts, by outcome",
    ["outcome"],
    registry=None,
)
DELIVERY_SECONDS = Histogram(
    "facito_webhook_delivery_seconds",
    "Time from sending a webhook to the receiver's answer (attempts that got one)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
    registry=None,
)
METRICS = (DELIVERY_ATTEMPTS, DELIVERY_SECONDS)


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt got: an HTTP status with an excerpt, or an error without a status."""

    status: int | None
    error: str | None = None
    excerpt: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status == 410


def body_of(payload: dict[str, Any]) -> str:
    """The exact text that is signed and sent (the same on every attempt)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def signed_headers(*, secret: str, event_id: str, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers: webhook-id, webhook-timestamp (the attempt's), signature."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "accept-encoding": "identity",
    }


def _excerpt(raw: bytes) -> str | None:
    text = UNSTORABLE.sub(" ", raw.decode("utf-8", errors="replace")).strip()
    return text[:EXCERPT_CHARS] or None


def _pool(target: Target, config: WebhookConfig) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(connect=config.connect_timeout, read=config.read_timeout)
    address = str(target.addresses[0])
    if target.scheme == "http":
        return urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False)
    # A name is checked in TLS (SNI, certificate) though we connect to its checked address.
    name = None if target.host_is_address else target.host
    return urllib3.HTTPSConnectionPool(
        address,
        target.port,
        timeout=timeout,
        retries=False,
        cert_reqs="CERT_REQUIRED",
        ca_certs=config.ca_bundle,
        server_hostname=name,
        assert_hostname=name,
    )


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def attempt_delivery(
    url: str, *, body: str, headers: dict[str, str], config: WebhookConfig
) -> AttemptOutcome:
    """POST ``body`` to ``url`` once; never raises for the receiver's or network's failures."""
    started = time.perf_counter()
    outcome = _attempt(url, body=body, headers=headers, config=config)
    if outcome.status is not None:
        DELIVERY_SECONDS.observe(time.perf_counter() - started)
        kind = "delivered" if outcome.succeeded else "receiver_error"
    else:
        kind = "refused" if (outcome.error or "").startswith(NOT_SENT) else "network_error"
    DELIVERY_ATTEMPTS.labels(kind).inc()
    return outcome


def _attempt(
    url: str, *, body: str, headers: dict[str, str], config: WebhookConfig
) -> AttemptOutcome:
    try:
        target = check_target(url, config)
    except WebhookUrlRefused as exc:
        return AttemptOutcome(None, error=f"{NOT_SENT}{exc.detail}")
    pool = _pool(target, config)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body.encode(),
            headers={**headers, "host": _host_header(target)},
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            excerpt = _excerpt(response.read(EXCERPT_BYTES))
        finally:
            response.release_conn()
            response.close()
    except (HTTPError, OSError) as exc:
        return AttemptOutcome(None, error=_error_text(exc))
    finally:
        pool.close()
    error = None if 200 <= response.status < 300 else f"the receiver answered {response.status}"
    return AttemptOutcome(response.status, error=error, excerpt=excerpt)


def _error_text(exc: BaseException) -> str:
    # urllib3 wraps the cause (timeout, refused, TLS) in its message; keep it short.
    message = UNSTORABLE.sub(" ", str(exc)).strip()
    return f"{type(exc).__name__}: {message}"[:500]
