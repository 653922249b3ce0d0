"""scim2-tester, the external SCIM compliance suite, run in-process against /scim/v2."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server

from tests.conftest import Org

# exclude_tags would silently drop checks: the suite must really have run this many.
MINIMUM_RESULTS = 100


def test_scim2_tester_finds_no_error_on_scim_v2(
    app: Flask, client: Any, org_a: Org, auth: Callable[..., dict[str, str]]
):
    created = client.post(
        f"/v1/organisations/{org_a.id}/scim-tokens",
        json={"description": "scim2-tester"},
        headers=auth(org_a, "Organisation.Admin"),
    )
    scim = WSGISCIMClient(
        app,
        base_url="http://localhost/scim/v2",
        headers={"Authorization": f"Bearer {created.json['token']}"},
    )
    results = check_server(scim)

    failures = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    assert not failures, "\n".join(f"{r.resource_type} {r.title}: {r.reason}" for r in failures)
    assert len(results) >= MINIMUM_RESULTS, Counter(r.status.name for r in results)
    checked = {r.resource_type for r in results if r.status is not Status.SKIPPED}
    assert {"User", "Group"} <= checked
