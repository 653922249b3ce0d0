"""Verified e-mail domains of an organisation (organisation admins and operators)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, page_response, require, runtime
from . import domains
from .domain_schemas import (
    EmailDomainCreateSchema,
    EmailDomainPageSchema,
    EmailDomainQueryArgsSchema,
    EmailDomainSchema,
)

blp = Blueprint(
    "domains",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/domains",
    description="E-mail domains, verified by a DNS TXT record",
)


@blp.route("")
class Domains(MethodView):
    @blp.arguments(EmailDomainQueryArgsSchema, location="query")
    @blp.response(200, EmailDomainPageSchema)
    @require(Permission.DomainsRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's e-mail domains"""
        page = domains.list_domains(
            db_session(), status=args["status"], limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)

    @blp.doc(operationId="claimDomain")
    @blp.arguments(EmailDomainCreateSchema)
    @blp.response(201, EmailDomainSchema, headers={"Location": {"schema": {"type": "string"}}})
    @require(Permission.DomainsWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Claim an e-mail domain; create the returned TXT record, then verify it"""
        claim = domains.claim_domain(db_session(), current_ctx(), domain=body["domain"])
        location = url_for("domains.DomainById", org_id=org_id, domain_id=claim.id)
        return claim, 201, {"Location": location}


@blp.route("/<uuid:domain_id>")
class DomainById(MethodView):
    @blp.response(200, EmailDomainSchema)
    @require(Permission.DomainsRead)
    def get(self, org_id: UUID, domain_id: UUID) -> Any:
        """Read an e-mail domain and its verification record"""
        return domains.get_domain(db_session(), domain_id=domain_id)

    @blp.doc(operationId="removeDomain")
    @blp.response(204)
    @require(Permission.DomainsWrite)
    def delete(self, org_id: UUID, domain_id: UUID) -> None:
        """Remove an e-mail domain"""
        domains.remove_domain(db_session(), current_ctx(), domain_id=domain_id)


@blp.route("/<uuid:domain_id>/verify")
class DomainVerify(MethodView):
    @blp.response(200, EmailDomainSchema)
    @blp.alt_response(409, description="Record missing or wrong, or verified elsewhere")
    @blp.alt_response(502, description="DNS did not answer")
    @require(Permission.DomainsWrite)
    def post(self, org_id: UUID, domain_id: UUID) -> Any:
        """Verify an e-mail domain by its DNS TXT record"""
        return domains.verify_domain(
            db_session(),
            current_ctx(),
            domain_id=domain_id,
            lookup=domains.DnsTxtLookup.from_settings(runtime().settings),
        )
