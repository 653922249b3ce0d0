"""E-mail domains of an organisation, written straight to the table (no DNS round)."""

from __future__ import annotations

from facito_admin.db.base import utcnow
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import DomainStatus, EmailDomain
from tests.conftest import Org


def add_domain(
    runtime: Runtime, org: Org, domain: str, status: DomainStatus = DomainStatus.verified
) -> None:
    """``domain`` claimed by ``org``, verified unless ``status`` says otherwise."""
    with runtime.session() as session, session.begin():
        session.add(
            EmailDomain(
                organisation_id=org.id,
                domain=domain,
                verification_token="t" * 32,
                status=status,
                verified_at=utcnow() if status is DomainStatus.verified else None,
            )
        )
