"""An account's preferences (and their history) and its guardian consent, for the organisation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..common.pagination import PageArgsSchema
from ..http import Blueprint, current_ctx, db_session, exempt_from_audit, page_response, require
from . import guardians, service
from .schemas import (
    GuardianConsentCreateSchema,
    GuardianConsentRevokeSchema,
    GuardianConsentSchema,
    GuardianConsentsSchema,
    PreferenceChangePageSchema,
    PreferencesSchema,
    PreferencesUpdateSchema,
)

blp = Blueprint(
    "preferences",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/accounts/<uuid:account_id>/preferences",
    description="An account's marketing, advertising and cookie preferences, and their history",
)
guardian_blp = Blueprint(
    "guardian_consents",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/accounts/<uuid:account_id>/guardian-consent",
    description="The guardian consent a minor's account needs to be active (GDPR art. 8)",
)
# The reason a PATCH that sent only current values needs no audit event (it wrote nothing).
NOTHING_CHANGED = "no preference changed"


def answer(update: service.PreferenceUpdate) -> service.PreferenceState:
    """The state after a change; a change that changed nothing is exempt from the audit rule."""
    if not update.changed:
        exempt_from_audit(NOTHING_CHANGED)
    return update.state


@blp.route("")
class AccountPreferences(MethodView):
    @blp.doc(operationId="getPreferences")
    @blp.response(200, PreferencesSchema)
    @require(Permission.PreferencesRead)
    def get(self, org_id: UUID, account_id: UUID) -> Any:
        """Read an account's preferences: each setting's value, where it comes from, since when"""
        return service.get_preferences(db_session(), account_id=account_id)

    @blp.doc(operationId="updatePreferences")
    @blp.arguments(PreferencesUpdateSchema)
    @blp.response(200, PreferencesSchema)
    @require(Permission.PreferencesWrite)
    def patch(self, body: dict[str, Any], org_id: UUID, account_id: UUID) -> Any:
        """Change some of an account's preferences; each change is kept in its history"""
        ctx = current_ctx()
        update = service.change_preferences(
            db_session(), ctx, account_id=account_id, document=body, actor=service.actor_of(ctx)
        )
        return answer(update)


@blp.route("/history")
class AccountPreferenceHistory(MethodView):
    @blp.doc(operationId="listPreferenceChanges")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, PreferenceChangePageSchema)
    @require(Permission.PreferencesRead)
    def get(self, args: dict[str, Any], org_id: UUID, account_id: UUID) -> Any:
        """List an account's preference changes, newest first, with the statement version shown"""
        page = service.list_preference_changes(
            db_session(), account_id=account_id, limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)


@guardian_blp.route("")
class GuardianConsents(MethodView):
    @guardian_blp.doc(operationId="getGuardianConsent")
    @guardian_blp.response(200, GuardianConsentsSchema)
    @require(Permission.GuardianConsentsRead)
    def get(self, org_id: UUID, account_id: UUID) -> Any:
        """Read the account's guardian consent in force and every consent it had"""
        return guardians.get_guardian_consents(db_session(), account_id=account_id)

    @guardian_blp.doc(operationId="recordGuardianConsent")
    @guardian_blp.arguments(GuardianConsentCreateSchema)
    @guardian_blp.response(
        201, GuardianConsentSchema, headers={"Location": {"schema": {"type": "string"}}}
    )
    @require(Permission.GuardianConsentsWrite)
    def post(self, body: dict[str, Any], org_id: UUID, account_id: UUID) -> Any:
        """Record a verified guardian's consent for a minor's account; it may then be enabled"""
        consent = guardians.record_guardian_consent(
            db_session(), current_ctx(), account_id=account_id, **body
        )
        location = url_for(
            "guardian_consents.GuardianConsents", org_id=org_id, account_id=account_id
        )
        return consent, 201, {"Location": location}


@guardian_blp.route("/revoke")
class GuardianConsentRevoke(MethodView):
    @guardian_blp.doc(operationId="revokeGuardianConsent")
    @guardian_blp.arguments(GuardianConsentRevokeSchema)
    @guardian_blp.response(200, GuardianConsentSchema)
    @require(Permission.GuardianConsentsWrite)
    def post(self, body: dict[str, Any], org_id: UUID, account_id: UUID) -> Any:
        """Revoke the guardian consent: the account is disabled and its data records deleted
        ---
        The account's product access ends at once; its linked data records are soft-deleted,
        which starts their deleted-items clock (`retention.deleted_items_days`).
        """
        return guardians.revoke_guardian_consent(
            db_session(), current_ctx(), account_id=account_id, reason=body["reason"]
        )
