"""Who answers a data-subject request: the organisation, Facito's DPO, or both (pure).

For an organisation-managed account the organisation is the controller of the account and of
the data in products where its contract makes Facito its processor; Facito assists (GDPR art.
28(3)(e)). Facito itself is the controller of a personal account, of the data in products the
contract leaves to Facito as controller (the statement's default for a product no contract
covers), and of the categories it always controls (policies/categories.py:FACITO_CONTROLLED).
A request over data of both is split into one part per controller, linked to each other.
A question goes to whoever manages the account: it asks, it does not act on data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..policies.categories import FACITO_CONTROLLED
from .models import Queue, RequestKind

PROCESSOR = "processor"  # policies.models.FacitoRole.processor: the organisation controls


@dataclass(frozen=True)
class Subject:
    """What routing needs to know about a request's subject and its data."""

    # The account's organisation when the subject is an organisation-managed account.
    organisation_managed: bool
    # Product code → Facito's role under the contract in force (processor or controller).
    product_roles: Mapping[str, str] = field(default_factory=dict)
    # (product, category) of every linked record of the subject.
    data: frozenset[tuple[str, str]] = frozenset()
    contract_reference: str | None = None


@dataclass(frozen=True)
class RoutedPart:
    """One controller's part of a request, with the rule that sent it there."""

    queue: Queue
    rule: str
    reason: str
    products: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def as_record(self) -> dict[str, object]:
        """What the request stores of the decision (``routing``)."""
        return {
            "queue": self.queue.value,
            "rule": self.rule,
            "reason": self.reason,
            "products": list(self.products),
            "categories": list(self.categories),
        }


def facito_controls(product: str, category: str, product_roles: Mapping[str, str]) -> bool:
    """Whether Facito is the controller of an organisation-managed account's data."""
    return category in FACITO_CONTROLLED or product_roles.get(product) != PROCESSOR


def _scope(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    pairs = list(pairs)
    return tuple(sorted({p for p, _ in pairs})), tuple(sorted({c for _, c in pairs}))


def route(kind: RequestKind, subject: Subject) -> tuple[RoutedPart, ...]:
    """The parts of a request, the organisation's first; one part unless it spans both."""
    if not subject.organisation_managed:
        return (
            RoutedPart(
                Queue.facito_dpo,
                "personal-account",
                "The subject's account is personal: Facito is the controller and its DPO answers.",
            ),
        )
    contract = (
        f"contract {subject.contract_reference}"
        if subject.contract_reference
        else "no contract in force (the privacy statement's default: Facito is controller)"
    )
    organisation_data = sorted(
        (p, c) for p, c in subject.data if not facito_controls(p, c, subject.product_roles)
    )
    facito_data = sorted(
        (p, c) for p, c in subject.data if facito_controls(p, c, subject.product_roles)
    )
    products, categories = _scope(organisation_data)
    organisation = RoutedPart(
        Queue.organisation,
        "organisation-managed",
        "The account is managed by the organisation: it is the controller and answers, "
        f"Facito assists as its processor (GDPR art. 28(3)(e)); {contract}.",
        products,
        categories,
    )
    if kind is RequestKind.question or not facito_data:
        return (organisation,)
    products, categories = _scope(facito_data)
    facito = RoutedPart(
        Queue.facito_dpo,
        "facito-controlled-data",
        "Part of the subject's data is controlled by Facito itself (categories it always "
        f"controls, or products where Facito is controller under {contract}): Facito's DPO "
        "answers for that part.",
        products,
        categories,
    )
    return (organisation, facito)
