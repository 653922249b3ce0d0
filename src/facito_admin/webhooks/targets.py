"""Where webhooks may go: https URLs whose host resolves to public addresses only (SSRF guard).

Checked when an endpoint is registered or changed, and again before every attempt: a name
that resolved to a public address at registration may point inside our network later (DNS
rebinding). The attempt then connects to the address this check returned, never resolving
the name a second time (delivery.py).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
import idna

from ..errors import ValidationFailed
from ..outbound import WebhookConfig

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048
# NAT64 (RFC 6052) embeds an IPv4 address in the last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class WebhookUrlRefused(ValidationFailed):
    code, title = "webhook-url-refused", "This URL cannot receive webhooks"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors={"url": [detail]})


@dataclass(frozen=True)
class Target:
    """A checked URL: what to connect to (``addresses``) and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[IPAddress, ...]
    host_is_address: bool


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not receive webhooks, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return refusal(embedded)
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("not globally routable", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


def _split(url: str, config: WebhookConfig) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and config.allow_http):
        raise WebhookUrlRefused("webhooks go to https URLs only")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("the URL must not carry credentials")
    if parts.fragment:
        raise WebhookUrlRefused("the URL must not have a fragment")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookUrlRefused("the URL has no host")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _ascii_host(host: str) -> str:
    try:
        return idna.encode(host, uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        raise WebhookUrlRefused("the host is not a valid domain name") from None


def resolve(host: str, config: WebhookConfig) -> tuple[IPAddress, ...]:
    """The IPv4 and IPv6 addresses of ``host``; WebhookUrlRefused when there are none."""
    if not config.nameservers:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            raise WebhookUrlRefused(f"the host {host} does not resolve") from None
        found = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
        return tuple(dict.fromkeys(found))
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [
        dns.nameserver.Do53Nameserver(address, port) for address, port in config.nameservers
    ]
    resolver.lifetime = resolver.timeout = config.dns_timeout
    resolver.cache = None
    addresses: list[IPAddress] = []
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        try:
            answer = resolver.resolve(host, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            break
        except dns.exception.Timeout:
            raise WebhookUrlRefused(f"the host {host} could not be resolved in time") from None
        except dns.exception.DNSException:
            raise WebhookUrlRefused(f"the host {host} could not be resolved") from None
        addresses += [ipaddress.ip_address(record.address) for record in answer]
    if not addresses:
        raise WebhookUrlRefused(f"the host {host} does not resolve")
    return tuple(dict.fromkeys(addresses))


def check_target(url: str, config: WebhookConfig) -> Target:
    """The checked target of ``url``, or WebhookUrlRefused (422) saying why not."""
    url = url.strip()
    scheme, host, port, path = _split(url, config)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        host = _ascii_host(host)
        addresses = resolve(host, config)
    if not config.allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                shown = "the address" if literal is not None else f"{host} resolves to"
                raise WebhookUrlRefused(f"{shown} {address}, which is {reason}")
    return Target(
        url=url,
        scheme=scheme,
        host=host,
        port=port,
        path=path,
        addresses=addresses,
        host_is_address=literal is not None,
    )
