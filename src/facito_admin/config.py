"""Typed settings read from ``FACITO_*`` environment variables, validated once at start."""

from __future__ import annotations

import ipaddress
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Facito's own Entra tenant in development: a fixed, obviously fake GUID so that dev tokens of
# staff roles work out of the box. Production must configure the real one.
DEV_FACITO_TENANT_ID = "00000000-0000-4000-8000-00000000fac1"
DEV_CLIENT_ID = "00000000-0000-4000-8000-0000000000a1"
DEV_PUBLIC_BASE_URL = "http://127.0.0.1:5000"


# Storages of the `limits` package that we deploy on: per process, or shared through Redis.
RATE_LIMIT_STORAGE_SCHEMES = frozenset(
    {"memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"}
)


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


def default_instance_path() -> Path:
    """`instance/` of the source checkout the package runs from, else of the current folder."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "src" / "facito_admin").is_dir():
        return checkout / "instance"
    return Path.cwd() / "instance"


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable service; the message names the variable."""


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="FACITO_", extra="ignore", frozen=True)

    env: Environment = Environment.development
    database_url: str | None = None
    # The instance folder (SQLite database, development keys, exports): always absolute, so a
    # command run from another folder finds the same one (default_instance_path).
    instance_path: Path = Field(default_factory=default_instance_path)
    log_level: str = "INFO"
    # JSON lines; None: JSON, except human-readable lines in development on a terminal.
    log_json: bool | None = None

    # Identity: the API's own app registration and Facito's tenant.
    client_id: str = DEV_CLIENT_ID
    client_secret: SecretStr = SecretStr("")
    facito_tenant_id: str = DEV_FACITO_TENANT_ID
    authority_host: str = "https://login.microsoftonline.com"
    jwks_url: str = "https://login.microsoftonline.com/common/discovery/v2.0/keys"
    jwks_cache_seconds: int = Field(default=24 * 3600, ge=60)
    jwks_min_refresh_seconds: int = Field(default=300, ge=1)
    clock_leeway_seconds: int = Field(default=120, ge=0, le=300)
    # How long a process keeps a tenant's organisation (and its status) and the existence of
    # an organisation: a suspension or a removed federation takes effect within this many
    # seconds on other processes, at once on the one that made it (auth/tenants.py). 0: off.
    tenant_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    # A CA bundle for outbound https (tests point it at their local authority).
    ca_bundle: str | None = None
    graph_base_url: str = "https://graph.microsoft.com"
    # DNS servers for domain verification as `host[:port]`, comma-separated (IPv6 as
    # `[addr]:port`); empty means the system resolver. Tests point it at a local server.
    dns_nameservers: str = ""
    dns_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    dev_issuer_enabled: bool | None = None
    # Where clients reach the API (scheme, host, port; no path): every absolute URL the API
    # writes (Link, SCIM locations, the admin-consent redirect) starts with it, never with the
    # request's Host. Required in production, where requests for another host are refused.
    public_base_url: str = DEV_PUBLIC_BASE_URL
    # Signs admin-consent `state`, cursors are not signed (they only move inside own data).
    secret_key: SecretStr = SecretStr("")
    # Signs organisations' audit checkpoints (auth/audit_keys.py): a private EC P-256 key as a
    # JWK or PEM file. None: one created in the instance folder (development and test only).
    audit_signing_key: Path | None = None
    # Public keys of earlier signing keys (a JWK Set file, each with its kid): still served
    # and accepted, so checkpoints they signed stay verifiable after a rotation.
    audit_retired_keys: Path | None = None

    rate_limit: str = "600/minute"
    # Reverse proxies in front of us whose X-Forwarded-* we believe (client address for rate
    # limits, scheme and host for Location). 0: none, the headers are ignored (no spoofing).
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    rate_limit_storage_url: str = "memory://"

    # Background jobs (jobs/): the huey queue and the timing of heartbeats and the reaper.
    # None: a SQLite queue beside the SQLite database (or in the instance folder);
    # `redis://…` for production; `sqlite:///path` names a SQLite queue file explicitly.
    huey_url: str | None = None
    huey_name: str = Field(default="facito-admin", min_length=1, max_length=100)
    worker_threads: int = Field(default=2, ge=1, le=64)
    # `facito-admin worker` serves its Prometheus metrics (job attempts, webhook deliveries,
    # audit sealing) on this port of FACITO_WORKER_METRICS_HOST; None: not served.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    job_heartbeat_seconds: float = Field(default=15.0, gt=0)
    # A running job whose heartbeat is older than this lost its worker (the reaper re-queues).
    job_stale_seconds: float = Field(default=120.0, gt=0)
    # A queued job that waited this long gets a fresh queue message (lost message, dead broker).
    job_queued_stale_seconds: float = Field(default=300.0, gt=0)
    job_retry_backoff_seconds: float = Field(default=10.0, ge=0)
    job_retry_backoff_max_seconds: float = Field(default=600.0, ge=0)

    # Data-subject requests (subject_requests/deadline_scan.py): how many days before a
    # request's due time its handlers are told it is due soon (dsr.due_soon).
    dsr_due_soon_days: int = Field(default=7, ge=1, le=90)
    # Data-subject request exports (subject_requests/export.py): the ZIP files the fulfilment
    # of an access or portability request writes. None: `exports/` in the instance folder. Every
    # worker and API process must see the same folder (a shared volume when they are several).
    export_path: Path | None = None
    # How long an export stays downloadable before it is deleted: a week lets the handler fetch
    # it and pass it on to the subject across a weekend or a holiday, and keeps a full copy of
    # someone's personal data from lingering (storage limitation, GDPR art. 5(1)(e)); a later
    # fulfilment writes a fresh one, and the request's own deadline is unaffected.
    export_days: int = Field(default=7, ge=1, le=90)
    # Support access (support_access/): hours an organisation has to answer a support engineer's
    # request before it expires unanswered (the engineer asks again, or escalates by phone).
    support_request_hours: int = Field(default=12, ge=1, le=168)

    # Outbound webhooks (webhooks/): short timeouts, a receiver is not worth a stuck worker.
    webhook_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    webhook_read_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # CA bundle that webhook receivers' certificates must chain to; None: the system's trust
    # store (tests point it at their local authority).
    webhook_ca_bundle: str | None = None
    # Receivers on private, loopback, link-local or other non-public addresses: None means
    # allowed in development only; tests switch it on for local receivers. Never in production.
    webhook_allow_private_targets: bool | None = None

    @field_validator("client_id", "facito_tenant_id")
    @classmethod
    def _guid(cls, value: str) -> str:
        if not GUID.match(value.lower()):
            raise ValueError("must be a GUID")
        return value.lower()

    @field_validator("authority_host", "graph_base_url", "public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("public_base_url")
    @classmethod
    def _origin_only(cls, value: str) -> str:
        parts = urlsplit(value)
        if not parts.hostname or parts.path or parts.query or parts.fragment or parts.username:
            raise ValueError("must be scheme://host[:port] only, e.g. https://admin.facito.nl")
        return value

    @field_validator("authority_host")
    @classmethod
    def _https_authority(cls, value: str) -> str:
        # msal accepts only https authorities (tests serve a local https fake).
        if not value.startswith("https://"):
            raise ValueError("must be an https URL")
        return value

    @field_validator("dns_nameservers")
    @classmethod
    def _nameservers(cls, value: str) -> str:
        parse_nameservers(value)
        return value.strip()

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        # Parsed here so that a typo stops the start, not the first request.
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must read like `600/minute` (limits notation)") from None
        return value

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _rate_limit_storage(cls, value: str) -> str:
        scheme = value.partition("://")[0]
        if "://" not in value or scheme not in RATE_LIMIT_STORAGE_SCHEMES:
            raise ValueError("must be memory:// or a storage URL such as redis://host:6379")
        return value

    @field_validator("instance_path")
    @classmethod
    def _absolute_instance_path(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("audit_signing_key", "audit_retired_keys", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: Any) -> Any:
        # `FACITO_AUDIT_SIGNING_KEY=` means no file, not the current directory.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("huey_url")
    @classmethod
    def _huey_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("redis://", "rediss://", "unix://", "sqlite:///")):
            raise ValueError("must be a redis://, rediss://, unix:// or sqlite:/// URL")
        return value.strip()

    @model_validator(mode="after")
    def _heartbeats_fit_the_threshold(self) -> Settings:
        # Two missed heartbeats must not be enough to declare a worker dead.
        if self.job_stale_seconds < 2 * self.job_heartbeat_seconds:
            raise ValueError("job_stale_seconds must be at least twice job_heartbeat_seconds")
        return self

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.env is not Environment.production:
            return self
        problems = []
        if self.dev_issuer_enabled:
            problems.append("FACITO_DEV_ISSUER_ENABLED must be false in production")
        if self.webhook_allow_private_targets:
            problems.append("FACITO_WEBHOOK_ALLOW_PRIVATE_TARGETS must be false in production")
        if not self.database_url:
            problems.append("FACITO_DATABASE_URL must be set in production")
        if len(self.secret_key.get_secret_value()) < 32:
            problems.append("FACITO_SECRET_KEY must be set (32+ characters) in production")
        if self.audit_signing_key is None:
            problems.append("FACITO_AUDIT_SIGNING_KEY must be set in production")
        # The development GUIDs can never match a real Entra token: a forgotten variable.
        if self.client_id == DEV_CLIENT_ID:
            problems.append("FACITO_CLIENT_ID must be the API's app registration in production")
        if self.facito_tenant_id == DEV_FACITO_TENANT_ID:
            problems.append("FACITO_FACITO_TENANT_ID must be Facito's tenant in production")
        if self.public_base_url == DEV_PUBLIC_BASE_URL or not self.public_base_url.startswith(
            "https://"
        ):
            problems.append("FACITO_PUBLIC_BASE_URL must be the API's https address in production")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def logs_as_json(self) -> bool:
        """JSON log lines, unless asked otherwise or a developer watches a terminal."""
        if self.log_json is not None:
            return self.log_json
        return not (self.env is Environment.development and sys.stderr.isatty())

    @property
    def uses_dev_issuer(self) -> bool:
        if self.dev_issuer_enabled is None:
            return self.env is not Environment.production
        return self.dev_issuer_enabled

    @property
    def webhooks_allow_private_targets(self) -> bool:
        if self.webhook_allow_private_targets is None:
            return self.env is Environment.development
        return self.webhook_allow_private_targets

    @property
    def webhooks_allow_http(self) -> bool:
        """Plain-http receivers: development only (a laptop's local receiver)."""
        return self.env is Environment.development

    @property
    def public_host(self) -> str:
        """The Host (name and port) requests must name in production."""
        return urlsplit(self.public_base_url).netloc.lower()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance_path / 'facito.db').resolve()}"

    @property
    def resolved_export_path(self) -> Path:
        """The folder of data-subject request exports (created by the first export)."""
        return (self.export_path or self.instance_path / "exports").resolve()

    @property
    def dns_nameserver_addresses(self) -> list[tuple[str, int]]:
        """(address, port) of each configured DNS server; empty for the system resolver."""
        return parse_nameservers(self.dns_nameservers)

    @property
    def resolved_secret_key(self) -> str:
        secret = self.secret_key.get_secret_value()
        if secret:
            return secret
        # Development and test only (production requires one): stable per instance folder.
        return f"dev-secret:{self.instance_path.resolve()}"


def parse_nameservers(value: str) -> list[tuple[str, int]]:
    """`1.2.3.4`, `1.2.3.4:5353`, `[::1]:53`, comma-separated → [(address, port)]."""
    servers: list[tuple[str, int]] = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        port = 53
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            if rest:
                if not rest.startswith(":"):
                    raise ValueError(f"{item!r}: expected [address]:port")
                port = _port(rest[1:], item)
        elif item.count(":") == 1:
            host, _, port_text = item.partition(":")
            port = _port(port_text, item)
        else:
            host = item
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"{item!r}: the server must be an IP address") from None
        servers.append((host, port))
    return servers


def _port(text: str, item: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{item!r}: invalid port")
    return int(text)


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Read and validate settings; raise ConfigurationError naming the offending variable."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            location = "_".join(str(part) for part in error["loc"]).upper()
            # Whole-model checks name their variables in the message itself.
            problems.append(f"FACITO_{location}: {message}" if location else message)
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None
