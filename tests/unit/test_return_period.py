"""Who gets in while an organisation is offboarded: its callers read and export during the
return period, and nobody after it (auth/context.py, auth/tenants.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from facito_admin.auth.context import resolve_principal
from facito_admin.auth.permissions import RETURN_PERIOD_PERMISSIONS, Permission
from facito_admin.auth.tenants import TenantOrganisation
from facito_admin.auth.tokens import InvalidToken

ORGANISATION = uuid.uuid4()


def _claims(*roles: str) -> dict[str, object]:
    return {"tid": "tenant-a", "oid": "someone", "scp": "access", "roles": list(roles)}


def _resolve(found: TenantOrganisation, *roles: str):
    return resolve_principal(
        _claims(*roles), facito_tenant_id="facito", organisation_of=lambda _tid: found
    )


def test_inside_the_return_period_an_admin_keeps_reads_and_exports_only():
    until = datetime.now(UTC) + timedelta(days=1)
    principal = _resolve(
        TenantOrganisation(ORGANISATION, active=False, return_until=until), "Organisation.Admin"
    )
    assert principal.organisation_id == ORGANISATION
    assert principal.can(Permission.AccountsRead)
    assert principal.can(Permission.ExportsWrite)
    assert not principal.can(Permission.AccountsWrite)
    assert not principal.can(Permission.SelfPreferencesWrite)
    assert principal.permissions <= RETURN_PERIOD_PERMISSIONS


@pytest.mark.parametrize(
    "found",
    [
        TenantOrganisation(
            ORGANISATION, active=False, return_until=datetime.now(UTC) - timedelta(seconds=1)
        ),
        # Suspended: no return period at all.
        TenantOrganisation(ORGANISATION, active=False, return_until=None),
    ],
)
def test_after_the_return_period_or_when_suspended_the_token_is_refused(found):
    with pytest.raises(InvalidToken, match="not active"):
        _resolve(found, "Organisation.Admin")


def test_an_active_organisations_admin_keeps_every_permission_of_the_role():
    principal = _resolve(TenantOrganisation(ORGANISATION, active=True), "Organisation.Admin")
    assert principal.can(Permission.AccountsWrite)


def test_the_return_period_set_writes_nothing_but_the_export():
    writes = {p for p in RETURN_PERIOD_PERMISSIONS if not p.value.endswith(":read")}
    assert writes == {Permission.ExportsWrite}
