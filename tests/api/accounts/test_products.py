"""The product catalogue: seeded from the statement's enterprise products, read by anyone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Org
from tests.factories.accounts import add_product, remove_product

KINDS = {"development", "cloud", "server_database", "storage_hardware", "professional_services"}


@pytest.fixture
def preview_product(runtime) -> Iterator[str]:
    add_product(runtime, "test-preview", preview=True)
    yield "test-preview"
    remove_product(runtime, "test-preview")


def test_the_catalogue_lists_the_statements_enterprise_products(client, org_a: Org, auth):
    response = client.get("/v1/products", headers=auth(org_a))
    assert response.status_code == 200
    products = response.get_json()
    codes = {p["code"] for p in products}
    assert {
        "website-hosting",
        "microsoft-365",
        "microsoft-azure",
        "dynamics-365",
        "windows-server",
        "sql-server",
        "visual-studio",
        "system-center",
        "storage-infrastructure",
        "onboarding",
        "data-migration",
        "data-science",
    } <= codes
    assert {p["kind"] for p in products} == KINDS
    assert all(p["name"] and p["description"] for p in products)
    assert [(p["kind"], p["code"]) for p in products] == sorted(
        (p["kind"], p["code"]) for p in products
    )


def test_the_catalogue_filters_by_kind_and_preview(client, org_a: Org, auth, preview_product):
    headers = auth(org_a, "Organisation.Reader")
    cloud = client.get("/v1/products", query_string={"kind": "cloud"}, headers=headers)
    assert {p["kind"] for p in cloud.get_json()} == {"cloud"}
    assert {"website-hosting", "microsoft-365"} <= {p["code"] for p in cloud.get_json()}
    previews = client.get("/v1/products", query_string={"preview": "true"}, headers=headers)
    assert [p["code"] for p in previews.get_json()] == [preview_product]
    released = client.get("/v1/products", query_string={"preview": "false"}, headers=headers)
    assert preview_product not in {p["code"] for p in released.get_json()}


def test_staff_and_employees_read_the_catalogue_but_strangers_do_not(
    client, org_a: Org, auth, operator
):
    assert client.get("/v1/products", headers=operator).status_code == 200
    assert client.get("/v1/products", headers=auth(org_a)).status_code == 200
    assert client.get("/v1/products").status_code == 401


@pytest.mark.parametrize("params", [{"kind": "food"}, {"preview": "maybe"}])
def test_bad_catalogue_filters_are_422(client, org_a: Org, auth, params):
    response = client.get("/v1/products", query_string=params, headers=auth(org_a))
    assert response.status_code == 422
