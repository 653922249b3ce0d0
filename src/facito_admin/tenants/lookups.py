"""Finding organisations: by id for any domain, the two questions identity asks, and who
owns an e-mail domain.

bootstrap.py hands the last two to the tenant directory (auth/tenants.py), which caches the
answers for every request: which organisation a token's tenant acts for, and whether an
organisation in a path exists.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import idna
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from ..auth.tenants import TenantOrganisation
from ..db.compiled import run_select
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
    return _ascii_domain(domain)


# An organisation's addresses share a few domains: IDNA's encoding was a thirtieth of a SCIM
# create's CPU (py-spy), for the same answer every time.
@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str | None:
    try:
        return idna.encode(domain.rstrip("."), uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return None


def _parents(domain: str) -> list[str]:
    """``domain`` and the domains it lies under, down to the second level."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


@dataclass(frozen=True)
class DomainOwnership:
    """Whose verified domains some address domains lie in (each with the verified domain)."""

    # Domains that are or lie under a domain another organisation verified.
    of_others: dict[str, str]
    # Domains that are or lie under one of the organisation's own verified domains.
    own: dict[str, str]
    # Whether the organisation verified any domain at all (those ``domains`` or others).
    has_verified: bool


def _verified_owners(candidate: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    return select(EmailDomain.domain, EmailDomain.organisation_id).where(
        EmailDomain.status == DomainStatus.verified,
        # The organisation's own verified domains are a handful (its index leads with it).
        or_(
            candidate,
            EmailDomain.organisation_id
            == bindparam("own_organisation", type_=EmailDomain.organisation_id.type),
        ),
    )


# Every account create and change with an address runs it, from its compiled form
# (db/compiled.py): through the Session's execution it was a twelfth of a SCIM create's CPU
# (py-spy). The candidates are one parameter, an array (PostgreSQL) or JSON text (SQLite),
# since an expanding IN gives new SQL for each count. email_domains is no tenant table: the
# tenancy guard has nothing to add to it (db/tenancy.py).
_VERIFIED_OWNERS = {
    "postgresql": _verified_owners(
        EmailDomain.domain == any_(bindparam("candidates", type_=ARRAY(String)))
    ),
    "sqlite": _verified_owners(
        EmailDomain.domain.in_(
            select(literal_column("value")).select_from(
                func.json_each(bindparam("candidates", type_=String))
            )
        )
    ),
}


def verified_domain_owners(
    session: Session, *, organisation_id: uuid.UUID, domains: list[str]
) -> DomainOwnership:
    """Of ``domains``, those in a domain another organisation verified and those in one of the
    organisation's own, and whether it verified any (one query for all).

    A verified domain belongs to one organisation with its subdomains: `bob@orgb.example` or
    `bob@eu.orgb.example` is B's once B verified `orgb.example`.
    """
    candidates = sorted({parent for domain in domains for parent in _parents(domain)})
    if session.new or session.dirty or session.deleted:
        session.flush()  # as the Session's execution would
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    rows = run_select(
        connection,
        _VERIFIED_OWNERS[connection.dialect.name],
        {
            "candidates": candidates if postgresql else json.dumps(candidates),
            "own_organisation": organisation_id,
        },
    )
    owners: dict[str, uuid.UUID] = {row.domain: row.organisation_id for row in rows}
    of_others: dict[str, str] = {}
    own: dict[str, str] = {}
    for domain in domains:
        parent = next((p for p in _parents(domain) if p in owners), None)
        if parent is not None:
            (own if owners[parent] == organisation_id else of_others)[domain] = parent
    return DomainOwnership(of_others, own, organisation_id in owners.values())
