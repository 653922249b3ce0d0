"""E-mail domains: claimed by an organisation, verified by a DNS TXT record with its token.

A claim is private to the organisation; a verified domain belongs to exactly one organisation
(a partial unique index backs the check below when two verify at once).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
import idna
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..config import Settings
from ..db.base import utcnow
from ..db.session import end_read_snapshot
from ..db.tenancy import require_organisation
from ..errors import (
    AlreadyExists,
    Conflict,
    InvalidState,
    NotFound,
    UpstreamFailed,
    ValidationFailed,
)
from ..tenants.lookups import get_organisation
from ..tenants.models import DomainStatus, EmailDomain, Organisation, OrganisationStatus
from .actions import OrganisationAction

TXT_LABEL = "_facito-verification"
TXT_VALUE_PREFIX = "facito-verification="
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# The shape the API documents and the schema checks before normalise_domain applies IDNA:
# two or more dot-separated labels of letters (any script), digits and inner hyphens, up to 63
# characters each, and perhaps a final dot. No lookarounds: JSON Schema tools differ on them.
_LETTER = r"0-9A-Za-z\u00a1-\ud7ff\ue000-\uffff"
_NAME_LABEL = rf"[{_LETTER}](?:[{_LETTER}-]{{0,61}}[{_LETTER}])?"
DOMAIN_NAME = rf"^(?:{_NAME_LABEL}\.)+{_NAME_LABEL}\.?$"

TxtLookup = Callable[[str], list[str]]


class DomainNotVerified(Conflict):
    """The verification record is missing or does not carry this claim's token."""

    code, title = "domain-not-verified", "The domain could not be verified"


class DomainUnavailable(Conflict):
    code, title = "domain-unavailable", "The domain cannot be verified for this organisation"


def normalise_domain(raw: str) -> str:
    """The domain's lowercase ASCII (IDNA A-label) form; ValidationFailed when not a hostname."""
    text = raw.strip().rstrip(".")
    try:
        ascii_name = idna.encode(text, uts46=True, std3_rules=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        ascii_name = ""
    labels = ascii_name.split(".")
    if (
        len(labels) < 2
        or len(ascii_name) > 253
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationFailed(
            "not a domain name",
            errors={"domain": ["a domain name such as example.com (IDNA allowed)"]},
        )
    return ascii_name


def txt_record_name(domain: str) -> str:
    return f"{TXT_LABEL}.{domain}"


def txt_record_value(token: str) -> str:
    return f"{TXT_VALUE_PREFIX}{token}"


@dataclass(frozen=True)
class DnsTxtLookup:
    """TXT lookups through the configured servers (or the system resolver), never cached."""

    nameservers: tuple[tuple[str, int], ...]
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> DnsTxtLookup:
        return cls(tuple(settings.dns_nameserver_addresses), settings.dns_timeout_seconds)

    def __call__(self, name: str) -> list[str]:
        """The TXT strings at ``name``; [] when the name or record does not exist."""
        try:
            resolver = self._resolver()
            answer = resolver.resolve(
                name, dns.rdatatype.TXT, search=False, raise_on_no_answer=False
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout:
            raise UpstreamFailed("DNS did not answer in time; try again") from None
        except dns.exception.DNSException as exc:
            raise UpstreamFailed(f"DNS lookup failed: {type(exc).__name__}") from None
        if answer.rrset is None:
            return []
        # One TXT record may be split into several strings of up to 255 bytes.
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer.rrset]

    def _resolver(self) -> dns.resolver.Resolver:
        if self.nameservers:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(address, port) for address, port in self.nameservers
            ]
        else:
            resolver = dns.resolver.Resolver()
        resolver.lifetime = self.timeout
        resolver.timeout = self.timeout
        resolver.cache = None
        return resolver


def _organisation(session: Session, *, writable: bool = False) -> Organisation:
    organisation = get_organisation(session, organisation_id=require_organisation(session))
    if writable and organisation.status is OrganisationStatus.offboarded:
        raise InvalidState("an offboarded organisation cannot change its domains")
    return organisation


def get_domain(session: Session, *, domain_id: uuid.UUID) -> EmailDomain:
    """One e-mail domain of the session's organisation."""
    # Email domains are a global table (uniqueness spans organisations): filter explicitly.
    domain = session.scalar(
        select(EmailDomain).where(
            EmailDomain.id == domain_id,
            EmailDomain.organisation_id == require_organisation(session),
        )
    )
    if domain is None:
        raise NotFound("no such domain")
    return domain


def list_domains(
    session: Session, *, status: DomainStatus | None, limit: int, cursor: str | None
) -> Page[EmailDomain]:
    """The organisation's domains in claim order, optionally of one status."""
    organisation = _organisation(session)
    query = select(EmailDomain).where(EmailDomain.organisation_id == organisation.id)
    if status is not None:
        query = query.where(EmailDomain.status == status)
    return paginate(session, query, keys=[EmailDomain.id], limit=limit, cursor=cursor)


def claim_domain(session: Session, ctx: RequestContext, *, domain: str) -> EmailDomain:
    """Claim a domain; it is verified once its TXT record carries the returned token."""
    organisation = _organisation(session, writable=True)
    name = normalise_domain(domain)
    exists = session.scalar(
        select(EmailDomain.id).where(
            EmailDomain.organisation_id == organisation.id, EmailDomain.domain == name
        )
    )
    if exists is not None:
        raise AlreadyExists(f"the organisation already claimed {name}")
    claim = EmailDomain(
        organisation_id=organisation.id, domain=name, verification_token=secrets.token_urlsafe(32)
    )
    session.add(claim)
    session.flush()
    record_event(
        session,
        ctx,
        action=OrganisationAction.DomainClaim,
        target_type="email_domain",
        target_id=claim.id,
        details={"domain": name},
    )
    return claim


def remove_domain(session: Session, ctx: RequestContext, *, domain_id: uuid.UUID) -> None:
    """Remove a claimed or verified domain."""
    _organisation(session)
    domain = get_domain(session, domain_id=domain_id)
    details = {"domain": domain.domain, "status": domain.status.value}
    session.delete(domain)
    session.flush()
    record_event(
        session,
        ctx,
        action=OrganisationAction.DomainRemove,
        target_type="email_domain",
        target_id=domain_id,
        details=details,
    )


def verify_domain(
    session: Session, ctx: RequestContext, *, domain_id: uuid.UUID, lookup: TxtLookup
) -> EmailDomain:
    """Verify a claim by its DNS TXT record; verifying a verified domain only records the check."""
    organisation_id = _organisation(session, writable=True).id
    domain = get_domain(session, domain_id=domain_id)
    if domain.status is DomainStatus.verified:
        # Every successful mutating request leaves one audit event, a repeated check included.
        record_event(
            session,
            ctx,
            action=OrganisationAction.DomainVerify,
            target_type="email_domain",
            target_id=domain.id,
            details={"domain": domain.domain, "already_verified": True},
        )
        return domain
    name, expected = domain.domain, txt_record_value(domain.verification_token)

    end_read_snapshot(session)
    record_name = txt_record_name(name)
    found = lookup(record_name)
    if expected not in (value.strip() for value in found):
        detail = (
            f"no TXT record at {record_name}"
            if not found
            else f"none of the {len(found)} TXT records at {record_name} carries this token"
        )
        raise DomainNotVerified(
            f"{detail}; create TXT {record_name} {expected!r} and try again",
            extra={"record_name": record_name, "record_value": expected},
        )

    # Checked only after the DNS proof, so that nobody learns who holds a domain they do not own.
    domain = get_domain(session, domain_id=domain_id)
    if domain.status is DomainStatus.verified:
        return domain
    verified_elsewhere = session.scalar(
        select(EmailDomain.id).where(
            EmailDomain.domain == name,
            EmailDomain.status == DomainStatus.verified,
            EmailDomain.organisation_id != organisation_id,
        )
    )
    # Generic on purpose: which organisation holds the domain is not this caller's business.
    unavailable = DomainUnavailable("this domain is already verified by another organisation")
    if verified_elsewhere is not None:
        raise unavailable
    domain.status = DomainStatus.verified
    domain.verified_at = utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Another organisation verified it between our check and our write.
        raise unavailable from None
    record_event(
        session,
        ctx,
        action=OrganisationAction.DomainVerify,
        target_type="email_domain",
        target_id=domain.id,
        details={"domain": name, "record_name": record_name},
    )
    return domain
