"""The subprocessors that store data for Facito and the regions they offer.

Facts from the privacy statement of 8 March 2019: TransIP keeps all data in datacentres in
Delft and/or Amsterdam (NL); Microsoft Azure has datacentres in the countries listed below.
Whether a country is in the EEA decides whether a transfer needs legal safeguards (GDPR ch. V).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subprocessor:
    code: str
    name: str
    description: str


@dataclass(frozen=True)
class Region:
    code: str
    subprocessor: str
    name: str
    country: str  # ISO 3166-1 alpha-2
    eea: bool


SUBPROCESSORS: dict[str, Subprocessor] = {
    s.code: s
    for s in (
        Subprocessor("transip", "TransIP", "Hosting in Dutch datacentres (Delft, Amsterdam)"),
        Subprocessor("azure", "Microsoft Azure", "Cloud hosting in Microsoft's own datacentres"),
    )
}

# Countries of the European Economic Area among those the statement names.
_EEA = {"AT", "DE", "FI", "FR", "IE", "LU", "NL"}

_AZURE_COUNTRIES = {
    "AU": "Australia",
    "BR": "Brazil",
    "CA": "Canada",
    "CL": "Chile",
    "DE": "Germany",
    "FI": "Finland",
    "FR": "France",
    "HK": "Hong Kong SAR",
    "IE": "Ireland",
    "IN": "India",
    "JP": "Japan",
    "KR": "Korea",
    "LU": "Luxembourg",
    "MY": "Malaysia",
    "NL": "Netherlands",
    "AT": "Austria",
    "SG": "Singapore",
    "GB": "United Kingdom",
    "US": "United States",
    "ZA": "South Africa",
}

REGIONS: dict[str, Region] = {
    r.code: r
    for r in (
        Region("transip-nl-delft", "transip", "TransIP Delft", "NL", eea=True),
        Region("transip-nl-amsterdam", "transip", "TransIP Amsterdam", "NL", eea=True),
        *(
            Region(f"azure-{cc.lower()}", "azure", f"Azure {name}", cc, eea=cc in _EEA)
            for cc, name in sorted(_AZURE_COUNTRIES.items(), key=lambda kv: kv[1])
        ),
    )
}


def region(code: str) -> Region | None:
    """The region with this code, if it is in the registry."""
    return REGIONS.get(code)
