"""The two questions identity asks of the organisations, answered from their tables.

bootstrap.py hands these to the tenant directory (auth/tenants.py), which caches the answers
for every request: which organisation a token's tenant acts for, and whether an organisation
in a path exists.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.tenants import TenantOrganisation
from .models import Federation, FederationStatus, Organisation, OrganisationStatus


def find_tenant_organisation(session: Session, tenant_id: str) -> TenantOrganisation | None:
    """Read the organisation of ``tenant_id``'s active federation (None: not federated)."""
    row = session.execute(
        select(Organisation.id, Organisation.status)
        .join(Federation, Federation.organisation_id == Organisation.id)
        .where(Federation.tenant_id == tenant_id, Federation.status == FederationStatus.active)
    ).first()
    if row is None:
        return None
    return TenantOrganisation(row.id, active=row.status is OrganisationStatus.active)


def organisation_exists(session: Session, organisation_id: uuid.UUID) -> bool:
    """Whether an organisation with this id exists (offboarded ones too)."""
    return session.get(Organisation, organisation_id) is not None
