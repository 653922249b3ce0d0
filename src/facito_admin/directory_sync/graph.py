"""Microsoft Graph users: full listing and delta pages, with Graph's paging and throttling rules.

Facts we rely on (DESIGN: Entra ID facts): `@odata.nextLink` is followed verbatim, and only to
the configured Graph host (a link elsewhere would carry our token there); a delta round ends
with `@odata.deltaLink`, whose token expires (410 Gone, or `syncStateNotFound` /
`resyncRequired`: start over with a full sync); throttling is 429 (or 503) with a Retry-After
that may be fractional seconds, an HTTP date, or absent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog

from ..auth.microsoft import AppToken, TokenAcquisitionFailed
from ..outbound import GraphAccess
from .mapping import PROPERTIES

log = structlog.get_logger("facito_admin.directory_sync")

# $select: the account fields' Graph properties (accounts/fields.py), no more.
SELECT = ",".join(PROPERTIES)
THROTTLED = frozenset({429, 503})
RESYNC_CODES = frozenset({"syncStateNotFound", "resyncRequired"})
# Renew the app token this long before it expires, so no page starts with a token about to go.
TOKEN_MARGIN_SECONDS = 300
_NUMBER = re.compile(r"^\s*\d+(\.\d+)?\s*$")


class GraphError(Exception):
    """Graph did not give us a page; ``message`` is safe to show to the organisation."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class DeltaExpired(GraphError):
    """The stored delta link is no longer valid: the caller starts a full sync."""


@dataclass(frozen=True)
class GraphPage:
    users: list[dict[str, Any]]
    next_link: str | None
    delta_link: str | None


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds a Retry-After asks for: `1.5`, `3`, or an HTTP date; None when absent or bad."""
    if value is None or not value.strip():
        return None
    if _NUMBER.match(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


class GraphClient:
    """Pages of one tenant's users. Not thread-safe: one per running sync."""

    def __init__(
        self,
        access: GraphAccess,
        tenant_id: str,
        *,
        wait: Callable[[float], None] = time.sleep,
    ) -> None:
        self.access = access
        self.tenant_id = tenant_id
        self._wait = wait
        self._http = requests.Session()
        self._token: AppToken | None = None
        self._origin = _origin(access.base_url)

    def close(self) -> None:
        self._http.close()

    def users_link(self) -> str:
        """The first page of a full listing."""
        return f"{self.access.base_url}/v1.0/users?$select={SELECT}&$top={self.access.page_size}"

    def delta_start_link(self, *, latest: bool = False) -> str:
        """The first page of a delta round; ``latest``: only a delta link for changes from now."""
        link = f"{self.access.base_url}/v1.0/users/delta?$select={SELECT}"
        return f"{link}&$deltatoken=latest" if latest else link

    def latest_delta_link(self) -> str | None:
        """A delta link for changes from now on (taken before a full listing), if Graph has one."""
        try:
            page = self.page(self.delta_start_link(latest=True))
        except GraphError as exc:
            log.warning("graph_latest_delta_link_unavailable", error=exc.message)
            return None
        return page.delta_link

    def _bearer(self, *, fresh: bool = False) -> str:
        token = self._token
        if fresh or token is None or token.expires_at - time.time() < TOKEN_MARGIN_SECONDS:
            try:
                token = self.access.entra.acquire_app_token(self.tenant_id, use_cache=not fresh)
            except TokenAcquisitionFailed as exc:
                raise GraphError(
                    f"Entra issued no app token for the tenant ({exc.error})",
                    retryable=exc.error == "unreachable",
                ) from None
            self._token = token
        return token.access_token

    def check_link(self, link: str) -> str:
        """The link itself when it points at the configured Graph host; GraphError otherwise."""
        if _origin(link) != self._origin:
            host = urlsplit(link).hostname or "?"
            raise GraphError(
                f"Graph returned a paging link to another host ({host[:100]}); refused",
                retryable=False,
            )
        return link

    def _backoff(self, attempt: int) -> float:
        delay = self.access.backoff_seconds * 2**attempt
        return float(min(delay, self.access.max_wait_seconds))

    def page(self, link: str) -> GraphPage:
        """One page of users at ``link``, retrying throttling, 5xx and network errors."""
        self.check_link(link)
        refreshed = False
        last = "no answer"
        for attempt in range(self.access.max_retries + 1):
            try:
                response = self._http.get(
                    link,
                    headers={
                        "Authorization": f"Bearer {self._bearer()}",
                        "Accept": "application/json",
                    },
                    timeout=self.access.timeout,
                    verify=self.access.verify,
                )
            except requests.RequestException as exc:
                last = f"unreachable ({type(exc).__name__})"
                if attempt < self.access.max_retries:
                    self._wait(self._backoff(attempt))
                continue
            status = response.status_code
            if status == 200:
                return self._parse(response)
            if status == 401 and not refreshed:
                # The token may have been revoked or rotated: one fresh token, then give up.
                refreshed = True
                self._bearer(fresh=True)
                continue
            code = _error_code(response)
            if status == 410 or code in RESYNC_CODES:
                raise DeltaExpired(f"the delta link has expired ({code or status})", retryable=True)
            if status in THROTTLED or status >= 500:
                last = f"{'throttled, ' if status in THROTTLED else ''}{status} {code}".strip()
                delay = retry_after_seconds(response.headers.get("Retry-After"))
                if delay is None:
                    delay = self._backoff(attempt)
                if attempt < self.access.max_retries:
                    log.info("graph_throttled", status=status, wait=delay, attempt=attempt + 1)
                    self._wait(min(delay, self.access.max_wait_seconds))
                continue
            if status in (401, 403):
                raise GraphError(
                    f"Microsoft Graph refused to list the tenant's users ({status} {code}); "
                    "the tenant's administrator must grant the app User.Read.All",
                    retryable=False,
                )
            raise GraphError(f"Microsoft Graph answered {status} {code}".strip(), retryable=False)
        raise GraphError(
            f"Microsoft Graph kept failing ({last}) after {self.access.max_retries} retries",
            retryable=True,
        )

    def _parse(self, response: requests.Response) -> GraphPage:
        try:
            body = response.json()
        except ValueError:
            raise GraphError(
                "Microsoft Graph answered with a page that is not JSON", retryable=True
            ) from None
        users = body.get("value") if isinstance(body, dict) else None
        if not isinstance(users, list):
            raise GraphError("Microsoft Graph answered without a `value` list", retryable=True)
        next_link = body.get("@odata.nextLink")
        delta_link = body.get("@odata.deltaLink")
        return GraphPage(
            users=[user for user in users if isinstance(user, dict)],
            next_link=self.check_link(next_link) if isinstance(next_link, str) else None,
            delta_link=self.check_link(delta_link) if isinstance(delta_link, str) else None,
        )


def _error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code)[:100] if code else ""
