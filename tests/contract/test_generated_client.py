"""A client generated from the committed document (openapi-python-client) takes the README's
tour against the app on a real port: what clients are built from is the document, so it is the
document that must be enough."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Org, TokenFactory

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
# Tests import from it inside their bodies: the package exists once the `generated` fixture ran.
PACKAGE = "facito_generated_client"
ADMIN = "Organisation.Admin"

Connect = Callable[..., Any]


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package generated from the committed document, importable for the session."""
    root = tmp_path_factory.mktemp("generated_client")
    config = root / "config.yaml"
    # By default the generator runs ruff over its output: formatting the client is not our
    # concern, and a missing ruff on PATH would be a warning, which fails the generation here.
    # The generator reads only JSON, text and octet-stream bodies: a ZIP (a data-subject
    # request's export) is bytes to it, as its documentation suggests for other binary types.
    config.write_text(
        "post_hooks: []\ncontent_type_overrides:\n  application/zip: application/octet-stream\n",
        encoding="utf-8",
    )
    generation = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(DOCUMENT),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert generation.returncode == 0, generation.stdout + generation.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture
def connect(generated: ModuleType, served: int, make_token: TokenFactory) -> Iterator[Connect]:
    """A generated client of the served app, as ``connect(org_a, "Organisation.Admin")``."""
    clients: list[Any] = []

    def _connect(org: Org | None, *roles: str) -> Any:
        client = generated.AuthenticatedClient(
            base_url=f"http://127.0.0.1:{served}",
            token=make_token(org, *roles),
            raise_on_unexpected_status=True,
        )
        clients.append(client)
        return client

    yield _connect
    for client in clients:
        client.get_httpx_client().close()


def _create(client: Any, org: Org, name: str) -> Any:
    from facito_generated_client.api.accounts import create_account
    from facito_generated_client.models import Account, AccountCreate

    first_name = name.partition(" ")[0].lower()
    upn = f"{first_name}@{org.slug}.example"
    response = create_account.sync_detailed(
        org.id,
        client=client,
        body=AccountCreate(user_principal_name=upn, email=upn, display_name=name),
    )
    assert response.status_code == 201
    assert isinstance(response.parsed, Account)
    return response.parsed


def _next_link_query(response: Any) -> dict[str, list[str]]:
    # The Link target starts with settings.public_base_url, not the served port: its query is
    # what a client could follow.
    target, relation = response.headers["Link"].split(";", 1)
    assert relation.strip() == 'rel="next"'
    return parse_qs(urlsplit(target.strip().strip("<>")).query)


def test_the_readme_tour_runs_through_a_client_generated_from_the_document(
    connect: Connect, org_a: Org
):
    from facito_generated_client.api.accounts import get_account, list_accounts, update_account
    from facito_generated_client.api.effective_policy import get_effective_policy
    from facito_generated_client.models import (
        AccountStatus,
        AccountUpdate,
        EffectivePolicy,
        EffectiveValueSource,
        ListAccountsStatusType1,
    )

    admin = connect(org_a, ADMIN)
    created = [_create(admin, org_a, name) for name in ("Anna de Vries", "Bram Jansen", "Cor Smit")]
    assert {account.status for account in created} == {AccountStatus.ACTIVE}

    # Paged as a generated client pages: with next_cursor from the body, until it is null.
    listed, cursor, pages = [], None, 0
    while pages == 0 or cursor is not None:
        page = list_accounts.sync_detailed(
            org_a.id, client=admin, limit=2, status=ListAccountsStatusType1.ACTIVE, cursor=cursor
        )
        assert page.status_code == 200
        listed += page.parsed.items
        pages += 1
        cursor = page.parsed.next_cursor
        if cursor is None:
            assert "Link" not in page.headers
        else:
            link = _next_link_query(page)
            assert (link["cursor"], link["limit"], link["status"]) == ([cursor], ["2"], ["active"])
    assert pages == 2
    assert [account.id for account in listed] == [account.id for account in created]

    anna = created[0]
    read = get_account.sync_detailed(org_a.id, anna.id, client=admin)
    assert read.status_code == 200
    changed = update_account.sync_detailed(
        org_a.id,
        anna.id,
        client=admin,
        body=AccountUpdate(department="Finance"),
        if_match=read.headers["ETag"],
    )
    assert changed.status_code == 200
    assert changed.parsed.department == "Finance"
    assert changed.headers["ETag"] != read.headers["ETag"]

    policy = get_effective_policy.sync_detailed(org_a.id, client=admin)
    assert policy.status_code == 200
    assert isinstance(policy.parsed, EffectivePolicy)
    assert policy.parsed.contract is None
    response_days = policy.parsed.values["dsr.response_days"]
    assert response_days.value == 30
    assert response_days.source == EffectiveValueSource.STATEMENT
    assert response_days.statement_version == "2019-03-08"


def test_an_unchanged_account_is_304_and_a_stale_etag_412_through_the_generated_client(
    connect: Connect, org_a: Org
):
    from facito_generated_client.api.accounts import get_account, update_account
    from facito_generated_client.models import AccountUpdate, Problem

    admin = connect(org_a, ADMIN)
    anna = _create(admin, org_a, "Anna de Vries")
    tag = get_account.sync_detailed(org_a.id, anna.id, client=admin).headers["ETag"]

    unchanged = get_account.sync_detailed(org_a.id, anna.id, client=admin, if_none_match=tag)
    assert unchanged.status_code == 304
    assert unchanged.parsed is None

    first = update_account.sync_detailed(
        org_a.id, anna.id, client=admin, body=AccountUpdate(department="Finance"), if_match=tag
    )
    assert first.status_code == 200
    stale = update_account.sync_detailed(
        org_a.id, anna.id, client=admin, body=AccountUpdate(department="Sales"), if_match=tag
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, Problem)
    assert (stale.parsed.status, stale.parsed.code) == (412, "precondition-failed")
    assert stale.parsed.request_id == stale.headers["X-Request-ID"]

    again = get_account.sync_detailed(org_a.id, anna.id, client=admin, if_none_match=tag)
    assert again.status_code == 200
    assert again.parsed.department == "Finance"


def test_another_organisation_gets_404_for_an_account_through_the_generated_client(
    connect: Connect, org_a: Org, org_b: Org
):
    from facito_generated_client.api.accounts import get_account, list_accounts, update_account
    from facito_generated_client.models import AccountUpdate, Problem

    admin_a = connect(org_a, ADMIN)
    anna = _create(admin_a, org_a, "Anna de Vries")
    tag = get_account.sync_detailed(org_a.id, anna.id, client=admin_a).headers["ETag"]

    admin_b = connect(org_b, ADMIN)
    for org in (org_a, org_b):
        read = get_account.sync_detailed(org.id, anna.id, client=admin_b)
        assert read.status_code == 404
        assert isinstance(read.parsed, Problem)
        changed = update_account.sync_detailed(
            org.id, anna.id, client=admin_b, body=AccountUpdate(department="Sales"), if_match=tag
        )
        assert changed.status_code == 404
        assert isinstance(changed.parsed, Problem)
    assert list_accounts.sync_detailed(org_b.id, client=admin_b).parsed.items == []

    unchanged = get_account.sync_detailed(org_a.id, anna.id, client=admin_a, if_none_match=tag)
    assert unchanged.status_code == 304
