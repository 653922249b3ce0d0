"""How this process calls out: Microsoft Graph and webhook receivers, as configured at start.

Plain settings of the outbound clients, held by the runtime (runtime.py); the clients that use
them live with their domains (directory_sync/graph.py, webhooks/delivery.py). Tests replace
them with ones that reach fakes on 127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass

from .auth.microsoft import EntraApps
from .config import Settings

# Graph's largest page of users (`$top`).
GRAPH_PAGE_SIZE = 999


@dataclass
class GraphAccess:
    """How this process reaches Graph: its base URL, the app's tokens, TLS, patience."""

    base_url: str
    entra: EntraApps
    verify: str | bool = True
    timeout: float = 10.0
    # Attempts per page beyond the first, for throttling, 5xx and network errors alike.
    max_retries: int = 6
    # The longest we sleep on one Retry-After (a longer one is cut to this).
    max_wait_seconds: float = 120.0
    # Without a Retry-After (or for network errors): this, doubling per retry.
    backoff_seconds: float = 1.0
    page_size: int = GRAPH_PAGE_SIZE

    @classmethod
    def from_settings(cls, settings: Settings, entra: EntraApps) -> GraphAccess:
        return cls(
            base_url=settings.graph_base_url,
            entra=entra,
            verify=settings.ca_bundle or True,
            timeout=settings.http_timeout_seconds,
        )


@dataclass(frozen=True)
class WebhookConfig:
    """How this process checks and calls webhook receivers."""

    secret_key: str
    allow_http: bool = False
    allow_private: bool = False
    ca_bundle: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    # (address, port) of DNS servers; empty: the system resolver (getaddrinfo).
    nameservers: tuple[tuple[str, int], ...] = ()
    dns_timeout: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookConfig:
        return cls(
            secret_key=settings.resolved_secret_key,
            allow_http=settings.webhooks_allow_http,
            allow_private=settings.webhooks_allow_private_targets,
            ca_bundle=settings.webhook_ca_bundle,
            connect_timeout=settings.webhook_connect_timeout_seconds,
            read_timeout=settings.webhook_read_timeout_seconds,
            nameservers=tuple(settings.dns_nameserver_addresses),
            dns_timeout=settings.dns_timeout_seconds,
        )
