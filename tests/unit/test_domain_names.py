"""Domain names are stored in one form: lowercase ASCII, IDNA A-labels, no final dot."""

from __future__ import annotations

import pytest

from facito_admin.errors import ValidationFailed
from facito_admin.organisations.domains import normalise_domain


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("example.com", "example.com"),
        ("Mail.Example.COM.", "mail.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("a-b.co.uk", "a-b.co.uk"),
    ],
)
def test_domains_are_normalised(raw: str, stored: str):
    assert normalise_domain(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "com",
        "example",
        "10.0.0.1",
        "a_b.example",
        "-a.example",
        "a-.example",
        "a..example",
        "*.example.com",
        "exa mple.com",
        ".",
        ("a" * 63 + ".") * 4 + "com",
    ],
)
def test_non_hostnames_are_refused(raw: str):
    with pytest.raises(ValidationFailed):
        normalise_domain(raw)
