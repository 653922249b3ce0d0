"""URLs shared by the consents API tests."""

from __future__ import annotations

import uuid

from tests.conftest import Org

ADMIN = "Organisation.Admin"
READER = "Organisation.Reader"
PRIVACY = "Privacy.Officer"
INTEGRATION = "Integration.ReadWrite"
OPERATOR = "Facito.Operator"


def preferences_url(org: Org, account_id: uuid.UUID | str, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/accounts/{account_id}/preferences{suffix}"


def guardian_url(org: Org, account_id: uuid.UUID | str, suffix: str = "") -> str:
    return f"/v1/organisations/{org.id}/accounts/{account_id}/guardian-consent{suffix}"


def setting(state: dict, name: str) -> dict:
    """One entry of a preferences answer's `settings`."""
    [found] = [item for item in state["settings"] if item["setting"] == name]
    return dict(found)
