"""E-mail domains of an organisation, written straight to the table (no DNS round)."""

from __future__ import annotations

from datetime import timedelta

from facito_admin.db.base import utcnow
from facito_admin.policies.models import Contract
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


def require_verified_domains(runtime: Runtime, org: Org) -> None:
    """A contract of ``org`` in force from a day ago whose policy requires its verified domains
    (`accounts.verified_domains_only`), written straight to the table like add_domain."""
    now = utcnow()
    with runtime.session(organisation_id=org.id, write=True) as session, session.begin():
        session.add(
            Contract(
                organisation_id=org.id,
                reference=f"VERIFIED-ONLY-{org.slug}",
                signed_on=(now - timedelta(days=2)).date(),
                effective_from=now - timedelta(days=1),
                products={},
                overrides={"accounts.verified_domains_only": True},
            )
        )
