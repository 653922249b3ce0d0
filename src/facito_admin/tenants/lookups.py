"""Finding organisations: by id for any domain, the two questions identity asks, and who
owns an e-mail domain.

bootstrap.py hands the last two to the tenant directory (auth/tenants.py), which caches the
answers for every request: which organisation a token's tenant acts for, and whether an
organisation in a path exists.
"""

from __future__ import annotations

import uuid

import idna
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.tenants import TenantOrganisation
from ..errors import NotFound
from .models import (
    DomainStatus,
    EmailDomain,
    Federation,
    FederationStatus,
    Organisation,
    OrganisationStatus,
)


def get_organisation(session: Session, *, organisation_id: uuid.UUID) -> Organisation:
    """One organisation by id; 404 when there is none."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("no such organisation")
    return organisation


def find_tenant_organisation(session: Session, tenant_id: str) -> TenantOrganisation | None:
    """Read the organisation of ``tenant_id``'s active federation (None: not federated)."""
    row = session.execute(
        select(Organisation.id, Organisation.status, Organisation.data_return_until)
        .join(Federation, Federation.organisation_id == Organisation.id)
        .where(Federation.tenant_id == tenant_id, Federation.status == FederationStatus.active)
    ).first()
    if row is None:
        return None
    offboarded = row.status is OrganisationStatus.offboarded
    return TenantOrganisation(
        row.id,
        active=row.status is OrganisationStatus.active,
        return_until=row.data_return_until if offboarded else None,
    )


def organisation_exists(session: Session, organisation_id: uuid.UUID) -> bool:
    """Whether an organisation with this id exists (offboarded ones too)."""
    return session.get(Organisation, organisation_id) is not None


def address_domain(address: str) -> str | None:
    """The lowercase ASCII (IDNA) domain of ``user@domain``, or None when it has none."""
    _, at, domain = address.strip().rpartition("@")
    if not at or not domain:
        return None
    try:
        return idna.encode(domain.rstrip("."), uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return None


def _parents(domain: str) -> list[str]:
    """``domain`` and the domains it lies under, down to the second level."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def domains_verified_by_others(
    session: Session, *, organisation_id: uuid.UUID, domains: list[str]
) -> dict[str, str]:
    """Of ``domains``, those that are or lie under a domain another organisation verified,
    each with that domain (one query for all).

    A verified domain belongs to one organisation with its subdomains: `bob@orgb.example` or
    `bob@eu.orgb.example` is B's once B verified `orgb.example`.
    """
    candidates = sorted({parent for domain in domains for parent in _parents(domain)})
    if not candidates:
        return {}
    owned = set(
        session.scalars(
            select(EmailDomain.domain).where(
                EmailDomain.domain.in_(candidates),
                EmailDomain.status == DomainStatus.verified,
                EmailDomain.organisation_id != organisation_id,
            )
        )
    )
    found: dict[str, str] = {}
    for domain in domains:
        parent = next((p for p in _parents(domain) if p in owned), None)
        if parent is not None:
            found[domain] = parent
    return found
