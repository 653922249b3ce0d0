"""Preference changes, guardian consents and linked data records, through the real services."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from facito_admin.consents import guardians
from facito_admin.consents import service as consents
from facito_admin.consents.models import GuardianConsent, PreferenceChange
from facito_admin.db.base import new_id, utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from facito_admin.user_data.models import DataRecord
from tests.factories.audit import admin_ctx


def guardian_body(**overrides: Any) -> dict[str, Any]:
    """A valid body of POST …/guardian-consent, verified an hour ago."""
    body: dict[str, Any] = {
        "guardian_name": "Petra de Vries",
        "guardian_contact": "petra@example.com",
        "relationship": "parent",
        "verification_method": "signed_form",
        "verified_at": (utcnow() - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        "scope": ["account", "products"],
    }
    return body | overrides


def change_preferences(
    runtime: Runtime, organisation_id: uuid.UUID, account_id: uuid.UUID, document: dict[str, Any]
) -> None:
    """One change of an account's preferences by an administrator, committed."""
    ctx = admin_ctx(organisation_id)
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        consents.change_preferences(
            session,
            ctx,
            account_id=account_id,
            document=document,
            actor=consents.actor_of(ctx),
        )


def make_guardian_consent(
    runtime: Runtime, organisation_id: uuid.UUID, account_id: uuid.UUID | str
) -> GuardianConsent:
    """A guardian consent recorded by the service for a minor's account, committed."""
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        return guardians.record_guardian_consent(
            session,
            admin_ctx(organisation_id),
            account_id=uuid.UUID(str(account_id)),
            guardian_name="Petra de Vries",
            guardian_contact="+31 6 1234 5678",
            relationship=guardians.Relationship.parent,
            verification_method=guardians.VerificationMethod.id_document,
            verified_at=utcnow() - timedelta(days=1),
            scope=["account"],
        )


def make_data_record(
    runtime: Runtime, organisation_id: uuid.UUID, account_id: uuid.UUID | str, n: int = 1
) -> uuid.UUID:
    """A linked data record of the account (stand-in for user_data's ingestion)."""
    record_id = new_id()
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        session.add(
            DataRecord(
                id=record_id,
                organisation_id=organisation_id,
                account_id=uuid.UUID(str(account_id)),
                product="website-hosting",
                category="identity.age_guardian",
                source_system="school-admin",
                external_key=f"record-{n}-{record_id}",
                subprocessor="transip",
                region="transip-nl-amsterdam",
                content={"note": "test"},
            )
        )
    return record_id


def data_records(runtime: Runtime, organisation_id: uuid.UUID) -> list[DataRecord]:
    with runtime.session(organisation_id=organisation_id) as session:
        return list(session.scalars(select(DataRecord).order_by(DataRecord.id)))


def preference_rows(runtime: Runtime, organisation_id: uuid.UUID) -> list[PreferenceChange]:
    with runtime.session(organisation_id=organisation_id) as session:
        return list(session.scalars(select(PreferenceChange).order_by(PreferenceChange.id)))
