"""Preference changes (append-only) and guardian consents of accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, new_id, utcnow
from ..db.tenancy import TenantScoped


class PreferenceChange(TenantScoped, Base):
    """One change of an account's preferences; the current state folds them over the defaults.

    Never updated or deleted while the account lives (the history is the proof of consent,
    GDPR art. 7(1)); it goes with the account's purge or erasure.
    """

    __tablename__ = "preference_changes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organisation_id", "account_id"], ["accounts.organisation_id", "accounts.id"]
        ),
        Index("ix_preference_changes_org_account", "organisation_id", "account_id", "id"),
        {"info": {"resource": "preference change"}},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # subject, guardian, admin, integration, system: who made the choice.
    actor_kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(String(200))
    actor_display: Mapped[str] = mapped_column(String(200))
    # Where the choice was made: self_service (/v1/me), admin_api, integration, import.
    source: Mapped[str] = mapped_column(String(32))
    # The privacy statement version in force when the choice was made (what the subject saw).
    statement_version_id: Mapped[uuid.UUID | None]
    statement_version_label: Mapped[str | None] = mapped_column(String(64))
    # Setting → new value, only the settings this change touched.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)


# At most one guardian consent in force per account; migration 0009 repeats the predicate.
CONSENT_IN_FORCE = "revoked_at IS NULL"


class GuardianConsent(TenantScoped, Base):
    """A guardian's consent for a minor's account (GDPR art. 8), and its revocation."""

    __tablename__ = "guardian_consents"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organisation_id", "account_id"], ["accounts.organisation_id", "accounts.id"]
        ),
        Index("ix_guardian_consents_org_account", "organisation_id", "account_id", "id"),
        Index(
            "uq_guardian_consents_in_force",
            "organisation_id",
            "account_id",
            unique=True,
            sqlite_where=text(CONSENT_IN_FORCE),
            postgresql_where=text(CONSENT_IN_FORCE),
            info={"field": "account_id"},
        ),
        {"info": {"resource": "guardian consent"}},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID]
    guardian_name: Mapped[str] = mapped_column(String(200))
    guardian_contact: Mapped[str] = mapped_column(String(320))
    relationship: Mapped[str] = mapped_column(String(32))
    verification_method: Mapped[str] = mapped_column(String(32))
    verified_at: Mapped[datetime]
    # What the guardian consented to (the account, named products, marketing…).
    scope: Mapped[list[str]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[str] = mapped_column(String(200))
    recorded_by_display: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[str | None] = mapped_column(String(200))
    revoked_by_display: Mapped[str | None] = mapped_column(String(200))
    revocation_reason: Mapped[str | None] = mapped_column(String(1000))
