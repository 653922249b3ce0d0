"""Outbound to Microsoft Entra ID: admin-consent URLs and app-only tokens per customer tenant.

Tokens come from msal's ConfidentialClientApplication (client credentials). msal replays a
failed answer from its per-app HTTP cache (400s for 60 s, 429/5xx for Retry-After), so every
attempt builds a fresh app; successful tokens are kept in one msal TokenCache per tenant, which
Graph sync reuses across calls. The admin-consent proof skips that cache on purpose: it must
reach the token endpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import msal
import msal.exceptions
import requests

from ..config import Settings

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"


class TokenAcquisitionFailed(Exception):
    """Entra did not issue a token; ``error`` is Entra's code (or `unreachable`), safe to show."""

    def __init__(self, tenant_id: str, error: str, description: str) -> None:
        super().__init__(f"{tenant_id}: {error}: {description}")
        self.tenant_id = tenant_id
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AppToken:
    """An app-only access token of one tenant."""

    tenant_id: str
    access_token: str
    expires_at: float


class _HttpClient(requests.Session):
    """A requests session with a default timeout and a `verify` the environment cannot override.

    requests lets REQUESTS_CA_BUNDLE replace a session's `verify` unless each request passes its
    own, and msal passes none; so we pass it on every request.
    """

    def __init__(self, *, verify: str | bool, timeout: float) -> None:
        super().__init__()
        self.verify = verify
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


def admin_consent_url(
    *, authority_host: str, tenant_id: str, client_id: str, redirect_uri: str, state: str
) -> str:
    """The v2 admin-consent URL an administrator of ``tenant_id`` opens to grant our app."""
    query = urlencode(
        {
            "client_id": client_id,
            "scope": GRAPH_DEFAULT_SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{authority_host.rstrip('/')}/{tenant_id}/v2.0/adminconsent?{query}"


class EntraApps:
    """App-only tokens of our app registration in customer tenants (client credentials)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        authority_host: str,
        verify: str | bool = True,
        timeout: float = 10.0,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.authority_host = authority_host.rstrip("/")
        self.verify = verify
        self.timeout = timeout
        self._caches: dict[str, msal.TokenCache] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> EntraApps:
        return cls(
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            authority_host=settings.authority_host,
            verify=settings.ca_bundle or True,
            timeout=settings.http_timeout_seconds,
        )

    def _cache_for(self, tenant_id: str) -> msal.TokenCache:
        with self._lock:
            return self._caches.setdefault(tenant_id, msal.TokenCache())

    def acquire_app_token(
        self,
        tenant_id: str,
        *,
        scopes: Sequence[str] = (GRAPH_DEFAULT_SCOPE,),
        use_cache: bool = True,
    ) -> AppToken:
        """An app-only token for ``tenant_id``; TokenAcquisitionFailed when Entra says no."""
        cache = self._cache_for(tenant_id) if use_cache else msal.TokenCache()
        http = _HttpClient(verify=self.verify, timeout=self.timeout)
        try:
            app = msal.ConfidentialClientApplication(
                self.client_id,
                client_credential=self._client_secret,
                authority=f"{self.authority_host}/{tenant_id}",
                instance_discovery=False,
                http_client=http,
                token_cache=cache,
            )
            result = app.acquire_token_for_client(scopes=list(scopes))
        except (OSError, ValueError, KeyError, msal.exceptions.MsalError) as exc:
            # Building the app fetches the tenant's OpenID configuration: an unreachable host,
            # a TLS failure (requests errors are OSErrors), an unknown tenant (ValueError) or a
            # 5xx (MsalServiceError) ends up here.
            raise TokenAcquisitionFailed(tenant_id, "unreachable", str(exc)[:300]) from exc
        finally:
            http.close()
        if not isinstance(result, dict) or "access_token" not in result:
            error = result.get("error") if isinstance(result, dict) else None
            description = result.get("error_description") if isinstance(result, dict) else None
            raise TokenAcquisitionFailed(
                tenant_id, str(error or "no_token"), str(description or "")[:500]
            )
        expires_in = result.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 0.0
        return AppToken(tenant_id, str(result["access_token"]), time.time() + lifetime)
