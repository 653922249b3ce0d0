"""Settings for outbound calls: an https authority for msal, DNS servers for domain checks."""

from __future__ import annotations

import pytest

from facito_admin.config import ConfigurationError, load_settings, parse_nameservers


@pytest.mark.parametrize(
    ("value", "servers"),
    [
        ("", []),
        ("127.0.0.1", [("127.0.0.1", 53)]),
        ("127.0.0.1:5353", [("127.0.0.1", 5353)]),
        (
            " 10.0.0.1 , [::1]:5300 ,[2001:db8::1]",
            [("10.0.0.1", 53), ("::1", 5300), ("2001:db8::1", 53)],
        ),
        ("::1", [("::1", 53)]),
    ],
)
def test_dns_servers_are_addresses_with_optional_ports(value: str, servers: list):
    assert parse_nameservers(value) == servers


@pytest.mark.parametrize(
    "value", ["dns.example", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:x", "[::1]5353"]
)
def test_dns_servers_that_are_not_addresses_are_refused_at_start(value: str):
    with pytest.raises(ConfigurationError, match="FACITO_DNS_NAMESERVERS"):
        load_settings({"dns_nameservers": value})


def test_the_authority_must_be_https_because_msal_requires_it():
    with pytest.raises(ConfigurationError, match="FACITO_AUTHORITY_HOST"):
        load_settings({"authority_host": "http://127.0.0.1:8443"})
    settings = load_settings({"authority_host": "https://127.0.0.1:8443/"})
    assert settings.authority_host == "https://127.0.0.1:8443"
