"""Routing of data-subject requests alone: which controller answers which part, and why."""

from __future__ import annotations

import pytest

from facito_admin.policies.categories import FACITO_CONTROLLED
from facito_admin.subject_requests.models import Queue, RequestKind
from facito_admin.subject_requests.routing import Subject, facito_controls, route

HOSTING = "website-hosting"
M365 = "microsoft-365"


def _managed(
    data: set[tuple[str, str]], roles: dict[str, str] | None = None, contract: str | None = "C-1"
) -> Subject:
    return Subject(
        organisation_managed=True,
        product_roles=roles if roles is not None else {HOSTING: "processor", M365: "processor"},
        data=frozenset(data),
        contract_reference=contract,
    )


@pytest.mark.parametrize("kind", list(RequestKind))
def test_a_personal_accounts_request_of_any_kind_goes_to_the_dpo_alone(kind: RequestKind):
    parts = route(kind, Subject(organisation_managed=False, data=frozenset({(HOSTING, "x")})))
    assert [(p.queue, p.rule) for p in parts] == [(Queue.facito_dpo, "personal-account")]


def test_an_organisation_users_data_all_in_processor_products_goes_to_the_organisation_only():
    subject = _managed({(HOSTING, "identity.contact"), (M365, "content.files")})
    (part,) = route(RequestKind.access, subject)
    assert (part.queue, part.rule) == (Queue.organisation, "organisation-managed")
    assert part.products == (M365, HOSTING)
    assert part.categories == ("content.files", "identity.contact")
    assert "contract C-1" in part.reason
    assert "28(3)(e)" in part.reason


def test_an_organisation_user_without_any_linked_data_goes_to_the_organisation_only():
    (part,) = route(RequestKind.erasure, _managed(set()))
    assert part.queue is Queue.organisation
    assert (part.products, part.categories) == ((), ())


def test_a_category_facito_always_controls_splits_the_request_in_two():
    subject = _managed({(HOSTING, "identity.contact"), (HOSTING, "commerce.payment")})
    organisation, facito = route(RequestKind.access, subject)
    assert (organisation.queue, facito.queue) == (Queue.organisation, Queue.facito_dpo)
    assert (organisation.products, organisation.categories) == ((HOSTING,), ("identity.contact",))
    assert (facito.rule, facito.products, facito.categories) == (
        "facito-controlled-data",
        (HOSTING,),
        ("commerce.payment",),
    )


def test_a_product_the_contract_leaves_to_facito_as_controller_splits_the_request():
    subject = _managed(
        {(HOSTING, "identity.contact"), (M365, "content.files")},
        roles={HOSTING: "processor", M365: "controller"},
    )
    organisation, facito = route(RequestKind.erasure, subject)
    assert (organisation.products, organisation.categories) == ((HOSTING,), ("identity.contact",))
    assert (facito.products, facito.categories) == ((M365,), ("content.files",))


def test_a_product_no_contract_covers_is_facitos_by_the_statements_default():
    subject = _managed({(HOSTING, "identity.contact"), ("webmail", "content.communications")})
    organisation, facito = route(RequestKind.portability, subject)
    assert organisation.products == (HOSTING,)
    assert facito.products == ("webmail",)


def test_without_a_contract_in_force_all_data_is_facitos_and_the_reason_says_so():
    subject = _managed({(HOSTING, "identity.contact")}, roles={}, contract=None)
    organisation, facito = route(RequestKind.access, subject)
    # The organisation still manages the account (and answers for it); the data is Facito's.
    assert (organisation.queue, organisation.products) == (Queue.organisation, ())
    assert (facito.queue, facito.products, facito.categories) == (
        Queue.facito_dpo,
        (HOSTING,),
        ("identity.contact",),
    )
    assert "no contract in force" in facito.reason
    assert "no contract in force" in organisation.reason


def test_a_question_is_never_split_even_over_facito_controlled_data():
    subject = _managed(
        {(HOSTING, "commerce.payment"), (M365, "content.files")},
        roles={M365: "controller"},
    )
    (part,) = route(RequestKind.question, subject)
    assert part.queue is Queue.organisation


@pytest.mark.parametrize("category", sorted(FACITO_CONTROLLED))
def test_facito_controls_its_own_categories_even_in_processor_products(category: str):
    assert facito_controls(HOSTING, category, {HOSTING: "processor"})
    assert not facito_controls(HOSTING, "identity.contact", {HOSTING: "processor"})
    assert facito_controls(HOSTING, "identity.contact", {HOSTING: "controller"})


def test_the_decision_as_recorded_names_queue_rule_reason_and_scope():
    _, facito = route(RequestKind.access, _managed({(HOSTING, "sales.contact")}))
    assert facito.as_record() == {
        "queue": "facito_dpo",
        "rule": "facito-controlled-data",
        "reason": facito.reason,
        "products": [HOSTING],
        "categories": ["sales.contact"],
    }
