"""Organisations (the tenants), their Entra federations and verified e-mail domains."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamped, Versioned, new_id, string_enum


class OrganisationStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    offboarded = "offboarded"


class Organisation(Versioned, Timestamped, Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[OrganisationStatus] = mapped_column(
        string_enum(OrganisationStatus, "organisation_status"), default=OrganisationStatus.active
    )
    primary_region: Mapped[str] = mapped_column(String(40))
    backup_region: Mapped[str] = mapped_column(String(40))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime | None]
    # End of contract (GDPR art. 28(3)(g), offboarding/): when the organisation was offboarded,
    # until when its callers may still read and export its data (the return period, from the
    # effective `offboarding.return_days` at offboarding; its provenance in the basis), and
    # when its data was deleted after that (held data aside).
    offboarded_at: Mapped[datetime | None]
    data_return_until: Mapped[datetime | None]
    data_return_basis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    data_deleted_at: Mapped[datetime | None]


class FederationStatus(StrEnum):
    pending_consent = "pending_consent"
    active = "active"
    disabled = "disabled"


class Federation(Timestamped, Base):
    """An Entra tenant whose tokens act for the organisation, once its admin consented."""

    __tablename__ = "federations"
    __table_args__ = (Index("ix_federations_organisation_id", "organisation_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    tenant_id: Mapped[str] = mapped_column(String(36), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[FederationStatus] = mapped_column(
        string_enum(FederationStatus, "federation_status"), default=FederationStatus.pending_consent
    )
    # The nonce of the one admin-consent `state` that may still activate this federation.
    consent_nonce: Mapped[str | None] = mapped_column(String(64))
    consented_at: Mapped[datetime | None]


class DomainStatus(StrEnum):
    pending = "pending"
    verified = "verified"


class EmailDomain(Timestamped, Base):
    """An e-mail domain claimed by an organisation, verified by a DNS TXT record."""

    __tablename__ = "email_domains"
    __table_args__ = (
        UniqueConstraint("organisation_id", "domain"),
        # Claims are per organisation (a claim reveals nothing to others); a verified domain
        # belongs to exactly one organisation.
        Index(
            "uq_email_domains_verified_domain",
            "domain",
            unique=True,
            sqlite_where=text("status = 'verified'"),
            postgresql_where=text("status = 'verified'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    domain: Mapped[str] = mapped_column(String(253))
    verification_token: Mapped[str] = mapped_column(String(64))
    status: Mapped[DomainStatus] = mapped_column(
        string_enum(DomainStatus, "domain_status"), default=DomainStatus.pending
    )
    verified_at: Mapped[datetime | None]
