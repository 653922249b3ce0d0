"""Finding organisations: by id for any domain, and the two questions identity asks.

bootstrap.py hands the last two to the tenant directory (auth/tenants.py), which caches the
answers for every request: which organisation a token's tenant acts for, and whether an
organisation in a path exists.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.tenants import TenantOrganisation
from ..errors import NotFound
from .models import Federation, FederationStatus, Organisation, OrganisationStatus


def get_organisation(session: Session, *, organisation_id: uuid.UUID) -> Organisation:
    """One organisation by id; 404 when there is none."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("no such organisation")
    return organisation


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
