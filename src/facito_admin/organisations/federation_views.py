"""Federations of an organisation (operators attach, members read) and Entra's consent callback."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.context import RequestContext
from ..auth.permissions import Permission
from ..db.session import unit_of_work
from ..http import Blueprint, current_ctx, db_session, page_response, request_id, require, runtime
from . import federations
from .federation_schemas import (
    AdminConsentCallbackArgsSchema,
    AdminConsentSchema,
    FederationCreateSchema,
    FederationPageSchema,
    FederationQueryArgsSchema,
    FederationSchema,
)

blp = Blueprint(
    "federations",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/federations",
    description="Entra ID tenants whose tokens act for the organisation",
)
consent_blp = Blueprint(
    "admin_consent",
    __name__,
    url_prefix="/v1/federations",
    description="Where Entra sends a tenant's administrator back after admin consent",
)


@blp.route("")
class Federations(MethodView):
    @blp.arguments(FederationQueryArgsSchema, location="query")
    @blp.response(200, FederationPageSchema)
    @require(Permission.FederationsRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's federations"""
        page = federations.list_federations(
            db_session(), status=args["status"], limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)

    @blp.doc(operationId="attachFederation")
    @blp.arguments(FederationCreateSchema)
    @blp.response(201, FederationSchema, headers={"Location": {"schema": {"type": "string"}}})
    @require(Permission.FederationsWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Attach an Entra tenant (Facito operators); it waits for admin consent"""
        federation = federations.attach_federation(
            db_session(),
            current_ctx(),
            tenant_id=body["tenant_id"],
            display_name=body["display_name"],
            facito_tenant_id=runtime().settings.facito_tenant_id,
        )
        location = url_for("federations.FederationById", org_id=org_id, federation_id=federation.id)
        return federation, 201, {"Location": location}


@blp.route("/<uuid:federation_id>")
class FederationById(MethodView):
    @blp.response(200, FederationSchema)
    @require(Permission.FederationsRead)
    def get(self, org_id: UUID, federation_id: UUID) -> Any:
        """Read a federation"""
        return federations.get_federation(db_session(), federation_id=federation_id)

    @blp.doc(operationId="removeFederation")
    @blp.response(204)
    @require(Permission.FederationsWrite)
    def delete(self, org_id: UUID, federation_id: UUID) -> None:
        """Remove a federation (Facito operators); the tenant's tokens stop working at once"""
        federations.remove_federation(db_session(), current_ctx(), federation_id=federation_id)


@blp.route("/<uuid:federation_id>/disable")
class FederationDisable(MethodView):
    @blp.response(200, FederationSchema)
    @require(Permission.FederationsWrite)
    def post(self, org_id: UUID, federation_id: UUID) -> Any:
        """Disable a federation (Facito operators); a new admin consent re-activates it"""
        return federations.disable_federation(
            db_session(), current_ctx(), federation_id=federation_id
        )


@blp.route("/<uuid:federation_id>/admin-consent")
class FederationAdminConsent(MethodView):
    @blp.doc(operationId="startAdminConsent")
    @blp.response(200, AdminConsentSchema)
    @require(Permission.FederationsWrite)
    def post(self, org_id: UUID, federation_id: UUID) -> Any:
        """Create an admin-consent URL for the tenant's administrator (Facito operators)

        The URL is valid for one hour and replaces any earlier one. Entra sends the
        administrator back to `/v1/federations/admin-consent/callback`.
        """
        return federations.start_admin_consent(
            db_session(),
            current_ctx(),
            federation_id=federation_id,
            settings=runtime().settings,
        )


@consent_blp.route("/admin-consent/callback")
class AdminConsentCallback(MethodView):
    @consent_blp.doc(operationId="completeAdminConsent", security=[])
    @consent_blp.arguments(AdminConsentCallbackArgsSchema, location="query")
    @consent_blp.response(200, FederationSchema)
    @consent_blp.alt_response(400, description="Bad, expired or used state; denied; other tenant")
    @consent_blp.alt_response(502, description="Entra issued no token: consent not proven")
    def get(self, args: dict[str, Any]) -> Any:
        """Entra's redirect after admin consent: activates the federation once consent is proven

        Entra sends the administrator's browser here, without a bearer token: the signed,
        single-use `state` (valid one hour) authenticates the redirect, `tenant` must be the
        federation's, and an app-only token for the tenant proves the consent.
        """
        ctx = RequestContext(principal=federations.ADMIN_CONSENT_PRINCIPAL, request_id=request_id())
        try:
            return federations.complete_admin_consent(
                db_session(write=True),
                ctx,
                settings=runtime().settings,
                entra=runtime().entra,
                **args,
            )
        except federations.ConsentAttemptFailed as failed:
            _record_failure(ctx, failed.attempt)
            raise


def _record_failure(ctx: RequestContext, attempt: federations.ConsentAttempt) -> None:
    # The request's transaction rolls back with the error, so the failure gets its own; the
    # request's session lets go first (on SQLite it may hold the write lock).
    db_session().rollback()
    with unit_of_work(runtime(), organisation_id=attempt.organisation_id) as session:
        federations.record_consent_failure(session, ctx, attempt=attempt)
