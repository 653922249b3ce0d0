"""Guardian consents (GDPR art. 8): recorded for a minor's account, and revoked.

Below the effective `children.consent_age` an account becomes active only once a guardian's
consent is in force (accounts/service.py: require_activation_allowed reads
Account.guardian_consent_at, which this module sets and clears; SCIM and directory sync read
it too). Revoking the consent disables the account (its product access ends) and soft-deletes
its linked data records, which starts their deleted-items clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.lifecycle import disable_account
from ..accounts.models import AccountStatus
from ..accounts.service import get_account
from ..audit.service import record_event
from ..auth.context import RequestContext
from ..db.base import new_id, utcnow
from ..db.tenancy import require_organisation
from ..errors import Conflict, InvalidState, ValidationFailed
from ..products.models import Product
from ..user_data.service import soft_delete_account_records
from .actions import ConsentAction
from .models import GuardianConsent


class Relationship(StrEnum):
    parent = "parent"
    legal_guardian = "legal_guardian"
    other = "other"


class VerificationMethod(StrEnum):
    """How the organisation verified that the guardian holds parental responsibility."""

    id_document = "id_document"
    signed_form = "signed_form"
    in_person = "in_person"
    video_call = "video_call"
    bank_verification = "bank_verification"
    email_confirmation = "email_confirmation"


class ConsentScope(StrEnum):
    """What a guardian consents to, beside the codes of single products."""

    account = "account"  # the account itself: required, activation depends on it
    products = "products"  # every product the organisation grants the account
    marketing = "marketing"  # promotional messages on the channels the preferences allow


class AccountNotMinor(Conflict):
    code, title = "account-not-a-minor", "The account does not belong to a minor"


class GuardianConsentInForce(Conflict):
    code, title = "guardian-consent-in-force", "A guardian consent is already in force"


class NoGuardianConsent(Conflict):
    code, title = "no-guardian-consent-in-force", "No guardian consent is in force"


@dataclass(frozen=True)
class GuardianConsents:
    """An account's consent in force (if any) and every consent it had, newest first."""

    account_id: uuid.UUID
    in_force: GuardianConsent | None
    history: Sequence[GuardianConsent]


def _in_force(session: Session, account_id: uuid.UUID) -> GuardianConsent | None:
    return session.scalar(
        select(GuardianConsent).where(
            GuardianConsent.account_id == account_id, GuardianConsent.revoked_at.is_(None)
        )
    )


def _check_scope(session: Session, scope: Sequence[str]) -> list[str]:
    known = {member.value for member in ConsentScope}
    if ConsentScope.account.value not in scope:
        raise ValidationFailed(
            "the consent must cover the account",
            errors={"scope": ["must include `account`: activation depends on it"]},
        )
    codes = sorted(set(scope) - known)
    if codes:
        found = set(session.scalars(select(Product.code).where(Product.code.in_(codes))))
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise ValidationFailed(
                "the scope names unknown products",
                errors={"scope": [f"not a scope nor a product code: {', '.join(unknown)}"]},
            )
    # Without repeats, in the order sent.
    return list(dict.fromkeys(scope))


def record_guardian_consent(
    session: Session,
    ctx: RequestContext,
    *,
    account_id: uuid.UUID,
    guardian_name: str,
    guardian_contact: str,
    relationship: Relationship,
    verification_method: VerificationMethod,
    verified_at: datetime,
    scope: Sequence[str],
) -> GuardianConsent:
    """Record a verified guardian's consent for a minor's account; it may then be activated."""
    account = get_account(session, account_id=account_id)
    if account.status is AccountStatus.deleted:
        raise InvalidState("the account is deleted; restore it first")
    if not account.minor_now:
        raise AccountNotMinor(
            "the account is not a minor's: it needs no guardian consent",
            extra={"account_id": str(account.id)},
        )
    if _in_force(session, account.id) is not None:
        raise GuardianConsentInForce(
            "a guardian consent is in force; revoke it before recording another",
            extra={"account_id": str(account.id)},
        )
    scope = _check_scope(session, scope)
    now = utcnow()
    consent = GuardianConsent(
        id=new_id(),
        organisation_id=require_organisation(session),
        account_id=account.id,
        guardian_name=guardian_name,
        guardian_contact=guardian_contact,
        relationship=relationship.value,
        verification_method=verification_method.value,
        verified_at=verified_at,
        scope=scope,
        recorded_at=now,
        recorded_by_id=ctx.principal.object_id,
        recorded_by_display=ctx.principal.display_name[:200],
    )
    session.add(consent)
    account.guardian_consent_at = now
    session.flush()
    record_event(
        session,
        ctx,
        action=ConsentAction.GuardianConsentRecord,
        target_type="account",
        target_id=account.id,
        # The guardian's name and contact stay out of the hash chain (erasable, GDPR art. 17).
        details={
            "consent_id": str(consent.id),
            "relationship": consent.relationship,
            "verification_method": consent.verification_method,
            "scope": scope,
        },
    )
    return consent


def get_guardian_consents(session: Session, *, account_id: uuid.UUID) -> GuardianConsents:
    """The account's guardian consent in force, and all of its consents, newest first."""
    get_account(session, account_id=account_id)
    history = session.scalars(
        select(GuardianConsent)
        .where(GuardianConsent.account_id == account_id)
        .order_by(GuardianConsent.id.desc())
    ).all()
    in_force = next((c for c in history if c.revoked_at is None), None)
    return GuardianConsents(account_id, in_force, history)


def revoke_guardian_consent(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID, reason: str
) -> GuardianConsent:
    """Revoke the consent in force: the account is disabled, its data records soft-deleted."""
    account = get_account(session, account_id=account_id)
    consent = _in_force(session, account.id)
    if consent is None:
        raise NoGuardianConsent(
            "the account has no guardian consent in force", extra={"account_id": str(account.id)}
        )
    now = utcnow()
    consent.revoked_at = now
    consent.revoked_by_id = ctx.principal.object_id
    consent.revoked_by_display = ctx.principal.display_name[:200]
    consent.revocation_reason = reason
    account.guardian_consent_at = None
    session.flush()
    disabled = account.status is AccountStatus.active
    if disabled:
        # Its own audit event (org:account:disable) and the end of its product access.
        disable_account(session, ctx, account_id=account.id)
    # The child's data: its deleted-items clock starts now (retention purges it after
    # `retention.deleted_items_days`).
    deleted_records = soft_delete_account_records(session, ctx, account_id=account.id)
    record_event(
        session,
        ctx,
        action=ConsentAction.GuardianConsentRevoke,
        target_type="account",
        target_id=account.id,
        details={
            "consent_id": str(consent.id),
            "account_disabled": disabled,
            "data_records_deleted": deleted_records,
        },
    )
    return consent
