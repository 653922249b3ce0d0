"""Fixtures of the incident tests: a local HTTPS webhook receiver and its CA
(factories/webhooks.py), and a third organisation that no incident affects."""

from __future__ import annotations

import pytest

from facito_admin.runtime import Runtime
from tests.conftest import Org, make_organisation
from tests.factories.webhooks import local_receivers, receiver, webhook_ca

__all__ = ["local_receivers", "receiver", "webhook_ca"]

TENANT_C = "cccccccc-0000-4000-8000-00000000000c"


@pytest.fixture
def org_c(runtime: Runtime) -> Org:
    return make_organisation(runtime, "org-c", TENANT_C)
