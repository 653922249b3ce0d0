"""The data categories: what kinds of personal data Facito's products hold, and what for.

Drawn from the privacy statement of 8 March 2019 (its sections on the data collected, how it is
used, cookies, children and products an organisation provides). Each category has a dotted key
(linked data records, legal holds and the `retention.days.<category>` policy keys name it), a
sensitivity flag (sensitive data is kept no longer than `retention.sensitive_max_days`), the
purposes the statement uses it for, and a default retention where neither the statement version
nor the contract in force sets one (Facito's documented default: the statement names no figure).

Adding a category: add it to :data:`CATEGORIES`; the API lists it, ingestion and holds accept
it, and the retention job honours its key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Purpose(StrEnum):
    """Why Facito processes data (the statement's "how we use personal data")."""

    ServiceDelivery = "service_delivery"
    Security = "security"
    Support = "support"
    ProductImprovement = "product_improvement"
    Personalisation = "personalisation"
    Advertising = "advertising"
    Marketing = "marketing"
    BusinessOperations = "business_operations"
    LegalObligation = "legal_obligation"


PURPOSE_DESCRIPTIONS: dict[Purpose, str] = {
    Purpose.ServiceDelivery: "Providing the products, updates and the transactions asked for",
    Purpose.Security: "Keeping products and customers safe, fighting fraud",
    Purpose.Support: "Solving problems and answering support questions",
    Purpose.ProductImprovement: "Improving and developing the products",
    Purpose.Personalisation: "Personalising the products and making recommendations",
    Purpose.Advertising: "Selecting interest-based advertisements",
    Purpose.Marketing: "Promotional messages and relevant offers",
    Purpose.BusinessOperations: "Analysing performance, developing staff, research",
    Purpose.LegalObligation: "Meeting legal obligations (bookkeeping, answering authorities)",
}


@dataclass(frozen=True)
class DataCategory:
    key: str
    name: str
    description: str
    sensitive: bool
    purposes: tuple[Purpose, ...]
    default_retention_days: int

    @property
    def advertising_allowed(self) -> bool:
        """Whether data of this category may ever serve advertising."""
        return Purpose.Advertising in self.purposes


_P = Purpose
_DELIVERY = (_P.ServiceDelivery, _P.Security, _P.Support)

CATEGORIES: dict[str, DataCategory] = {
    c.key: c
    for c in (
        DataCategory(
            "identity.contact",
            "Contact details",
            "Name, e-mail address, telephone number and postal address.",
            False,
            (*_DELIVERY, _P.Marketing, _P.BusinessOperations),
            730,
        ),
        DataCategory(
            "identity.organisation",
            "Organisation details",
            "Employer or school, department, job title and the account it issued.",
            False,
            (*_DELIVERY, _P.BusinessOperations),
            730,
        ),
        DataCategory(
            "identity.authentication",
            "Authentication data",
            "Sign-in identifiers, credentials' metadata and sign-in history.",
            True,
            (_P.ServiceDelivery, _P.Security),
            180,
        ),
        DataCategory(
            "identity.age_guardian",
            "Age and guardian",
            "Birth date or age and, for a minor, the guardian's consent.",
            True,
            (_P.ServiceDelivery, _P.LegalObligation),
            365,
        ),
        # The organisation may view and process the content of its employees' communications
        # and files; the statement never puts content to advertising use.
        DataCategory(
            "content.communications",
            "Communications content",
            "Messages, chats, calls and their attachments.",
            True,
            (_P.ServiceDelivery, _P.Security, _P.Support),
            365,
        ),
        DataCategory(
            "content.files",
            "Files",
            "Documents and other files stored in or through the products.",
            True,
            (_P.ServiceDelivery, _P.Security, _P.Support),
            365,
        ),
        DataCategory(
            "usage.device",
            "Device and usage data",
            "Device identifiers, settings, IP addresses and how the products are used.",
            False,
            (*_DELIVERY, _P.ProductImprovement, _P.Personalisation, _P.Advertising),
            365,
        ),
        DataCategory(
            "usage.error_reports",
            "Error reports",
            "Crash and error reports with the state of the software when they occurred.",
            False,
            (_P.ServiceDelivery, _P.Support, _P.ProductImprovement),
            90,
        ),
        DataCategory(
            "commerce.payment",
            "Payment data",
            "Payment instrument details and transaction history.",
            True,
            (_P.ServiceDelivery, _P.Security, _P.LegalObligation),
            2555,
        ),
        DataCategory(
            "support.interactions",
            "Support interactions",
            "Support requests, their correspondence and diagnostics.",
            False,
            (_P.Support, _P.ProductImprovement),
            730,
        ),
        DataCategory(
            "sales.contact",
            "Sales contact",
            "Contact with Facito's sales people and the offers made.",
            False,
            (_P.Marketing, _P.BusinessOperations),
            730,
        ),
        DataCategory(
            "preferences.consents",
            "Preferences and consents",
            "Marketing channels, advertising choices and cookie consents, with their history.",
            False,
            (_P.ServiceDelivery, _P.LegalObligation),
            1825,
        ),
        DataCategory(
            "advertising.profile",
            "Advertising profile",
            "Interests inferred from use, for interest-based advertisements.",
            False,
            (_P.Advertising, _P.Personalisation),
            180,
        ),
    )
}


# Data Facito controls itself whoever manages the account (the statement: its own sales
# contacts, marketing and advertising, payments, support diagnostics). A subject's rights over
# it are answered by Facito's DPO, not by the organisation (subject_requests/routing.py).
FACITO_CONTROLLED: frozenset[str] = frozenset(
    {"sales.contact", "advertising.profile", "commerce.payment", "support.interactions"}
)


class PurposeNotAllowed(ValueError):
    """A purpose named for data whose category never serves it; ``errors`` maps category → why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in sorted(errors.items())))
        self.errors = errors


def category(key: str) -> DataCategory | None:
    """The category a key names, or None."""
    return CATEGORIES.get(key)


def check_purpose(categories: Iterable[str], purpose: Purpose | str) -> None:
    """Refuse ``purpose`` for any of ``categories`` that does not serve it (PurposeNotAllowed).

    Wherever a purpose is named for data (a record's use, a consent, an export), this is the
    check: communications content and files, for one, never serve advertising.
    """
    purpose = Purpose(purpose)
    errors: dict[str, str] = {}
    for key in categories:
        found = CATEGORIES.get(key)
        if found is None:
            errors[key] = "Not a data category."
        elif purpose not in found.purposes:
            errors[key] = f"Data of category {key} is never used for {purpose.value}."
    if errors:
        raise PurposeNotAllowed(errors)
