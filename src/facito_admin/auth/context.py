"""Who is calling: the principal behind a validated token, and the context services receive."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .permissions import (
    ORGANISATION_ROLES,
    RETURN_PERIOD_PERMISSIONS,
    SELF_PERMISSIONS,
    STAFF_ROLES,
    AppRole,
    Permission,
    permissions_for,
)
from .tenants import TenantOrganisation
from .tokens import InvalidToken


class PrincipalKind(StrEnum):
    organisation_user = "organisation_user"
    organisation_app = "organisation_app"
    employee = "employee"
    facito_staff = "facito_staff"
    # A provisioning client holding one of the organisation's SCIM tokens (scim/auth.py).
    scim_client = "scim_client"
    system = "system"


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    tenant_id: str
    object_id: str
    display_name: str
    roles: frozenset[AppRole]
    permissions: frozenset[Permission]
    organisation_id: uuid.UUID | None
    client_id: str | None = None

    @property
    def client_key(self) -> str:
        """Stable identity of the caller across tokens: Entra keys identities by (tid, oid)."""
        return f"{self.tenant_id}:{self.object_id}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


SYSTEM_PRINCIPAL = Principal(
    kind=PrincipalKind.system,
    tenant_id="",
    object_id="",
    display_name="facito-admin",
    roles=frozenset(),
    permissions=frozenset(),
    organisation_id=None,
)


@dataclass(frozen=True)
class StaffGrant:
    """A support grant in force: the organisation let one staff member in, for a while."""

    id: uuid.UUID
    permissions: frozenset[Permission]
    justification: str
    ticket_reference: str
    ends_at: datetime


@dataclass(frozen=True)
class Access:
    """What a caller may do inside one organisation, and on what ground (http/access.py)."""

    organisation_id: uuid.UUID
    permissions: frozenset[Permission]
    # `member`: one of the organisation's own callers; `staff-role`: Facito staff by role
    # (onboarding); `support-grant`: Facito staff through a grant the organisation approved.
    via: str
    grant: StaffGrant | None = None


@dataclass(frozen=True)
class RequestContext:
    """What a service needs to know about the caller: who, for which request, with what access."""

    principal: Principal
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Set for requests inside an organisation (None for jobs, the CLI, global routes).
    access: Access | None = None


_KNOWN_ROLES = {role.value: role for role in AppRole}


def _roles(claims: dict[str, Any], allowed: frozenset[AppRole]) -> frozenset[AppRole]:
    raw = claims.get("roles") or []
    if not isinstance(raw, list):
        return frozenset()
    known = _KNOWN_ROLES
    return frozenset(known[r] for r in raw if isinstance(r, str) and r in known) & allowed


def resolve_principal(
    claims: dict[str, Any],
    *,
    facito_tenant_id: str,
    organisation_of: Callable[[str], TenantOrganisation | None],
) -> Principal:
    """Map verified claims to a principal; unfederated or suspended tenants are refused, and
    offboarded ones too once their return period is over (inside it: read and export only).

    ``organisation_of`` answers which organisation a tenant's active federation belongs to
    (auth/tenants.py: TenantDirectory.organisation_of, or find_tenant_organisation).
    """
    tenant_id = claims["tid"]
    object_id = claims["oid"]
    app_only = "scp" not in claims
    display = str(claims.get("name") or claims.get("azp") or object_id)
    client_id = claims.get("azp") if isinstance(claims.get("azp"), str) else None

    if tenant_id == facito_tenant_id:
        roles = _roles(claims, STAFF_ROLES)
        return Principal(
            PrincipalKind.facito_staff,
            tenant_id,
            object_id,
            display,
            roles,
            permissions_for(roles),
            None,
            client_id,
        )

    found = organisation_of(tenant_id)
    if found is None:
        raise InvalidToken("tenant is not federated with an organisation")
    returning = found.returning(datetime.now(UTC))
    if not found.active and not returning:
        raise InvalidToken("organisation is not active")
    roles = _roles(claims, ORGANISATION_ROLES)
    permissions = permissions_for(roles)
    if app_only:
        kind = PrincipalKind.organisation_app
    else:
        # A person: an employee, whatever admin roles they also hold, with their own data.
        kind = PrincipalKind.organisation_user if roles else PrincipalKind.employee
        permissions |= SELF_PERMISSIONS
    if returning:
        # Offboarded, inside the return period: read and take the data, change nothing.
        permissions &= RETURN_PERIOD_PERMISSIONS
    return Principal(
        kind,
        tenant_id,
        object_id,
        display,
        roles,
        permissions,
        found.organisation_id,
        client_id,
    )
