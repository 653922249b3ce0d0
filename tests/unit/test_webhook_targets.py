"""Which receivers webhooks may call: https, public unicast addresses, in every spelling."""

from __future__ import annotations

import ipaddress

import pytest

from facito_admin.config import load_settings
from facito_admin.webhooks.crypto import (
    SecretUnreadable,
    decrypt_secret,
    encrypt_secret,
    generate_secret,
)
from facito_admin.webhooks.targets import (
    WebhookConfig,
    WebhookUrlRefused,
    check_target,
    refusal,
)

STRICT = WebhookConfig(secret_key="k", nameservers=(("127.0.0.1", 9),), dns_timeout=0.2)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.2", "loopback"),
        ("10.255.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "not globally routable"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
        ("224.0.0.251", "multicast"),
        ("255.255.255.255", "reserved"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:7f00:1::", "loopback"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
    ],
)
def test_addresses_inside_or_nowhere_are_refused(address: str, reason: str):
    assert refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_unicast_addresses_are_allowed(address: str):
    assert refusal(ipaddress.ip_address(address)) is None


def test_an_ip_literal_url_needs_no_dns_and_keeps_its_port_and_path():
    target = check_target("https://93.184.216.34:8443/in/hook?x=1", STRICT)
    assert (target.host, target.port, target.path) == ("93.184.216.34", 8443, "/in/hook?x=1")
    assert target.host_is_address


@pytest.mark.parametrize(
    "url",
    ["https://", "https://93.184.216.34:99999/", "https://93.184.216.34/#frag", "h" * 3000],
)
def test_malformed_urls_are_refused(url: str):
    with pytest.raises(WebhookUrlRefused):
        check_target(url, STRICT)


def test_an_unreachable_dns_server_is_a_quick_refusal():
    with pytest.raises(WebhookUrlRefused, match=r"in time|could not be resolved"):
        check_target("https://hooks.example.test/", STRICT)


def test_development_mode_allows_http_and_local_receivers_and_test_mode_does_not(tmp_path):
    development = WebhookConfig.from_settings(
        load_settings({"env": "development", "instance_path": tmp_path})
    )
    assert (development.allow_http, development.allow_private) == (True, True)
    assert check_target("http://127.0.0.1:8000/hook", development).port == 8000

    test = WebhookConfig.from_settings(load_settings({"env": "test", "instance_path": tmp_path}))
    assert (test.allow_http, test.allow_private) == (False, False)
    local = WebhookConfig.from_settings(
        load_settings(
            {"env": "test", "instance_path": tmp_path, "webhook_allow_private_targets": True}
        )
    )
    assert (local.allow_http, local.allow_private) == (False, True)
    with pytest.raises(WebhookUrlRefused, match="https"):
        check_target("http://127.0.0.1:8000/hook", local)


def test_secrets_are_standard_webhooks_secrets_kept_encrypted():
    secret = generate_secret()
    assert secret.startswith("whsec_") and len(secret) > 30
    token = encrypt_secret(secret, secret_key="key one")
    assert secret not in token
    assert decrypt_secret(token, secret_key="key one") == secret
    with pytest.raises(SecretUnreadable):
        decrypt_secret(token, secret_key="key two")
