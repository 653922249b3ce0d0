"""Organisations: onboarding and lifecycle (operators), profile (members and operators)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import (
    IF_MATCH_DOC,
    Blueprint,
    current_ctx,
    db_session,
    etag_header,
    if_match,
    page_response,
    require,
)
from ..policies.categories import CATEGORIES
from ..policies.regions import REGIONS, SUBPROCESSORS
from ..tenants.lookups import get_organisation
from ..tenants.models import Organisation
from . import service
from .actions import OrganisationAction
from .schemas import (
    DataCategorySchema,
    OrganisationCreateSchema,
    OrganisationPageSchema,
    OrganisationQueryArgsSchema,
    OrganisationSchema,
    OrganisationUpdateSchema,
    RegionSchema,
    StatusChangeSchema,
    SubprocessorSchema,
)

blp = Blueprint(
    "organisations",
    __name__,
    url_prefix="/v1/organisations",
    description="Customer organisations (tenants)",
)
registry_blp = Blueprint(
    "registry",
    __name__,
    url_prefix="/v1",
    description="What data Facito holds and where it may be stored",
)


def _described(
    organisation: Organisation, status: int = 200, headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The organisation with its residency under the policy, and its ETag."""
    described = service.describe_organisation(db_session(), organisation)
    return described, status, etag_header(organisation) | (headers or {})


@blp.route("")
class Organisations(MethodView):
    @blp.arguments(OrganisationQueryArgsSchema, location="query")
    @blp.response(200, OrganisationPageSchema)
    @require(Permission.OrganisationsList)
    def get(self, args: dict[str, Any]) -> Any:
        """List organisations (Facito staff)"""
        page = service.list_organisations(
            db_session(), status=args["status"], limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)

    @blp.arguments(OrganisationCreateSchema)
    @blp.response(201, OrganisationSchema, headers={"Location": {"schema": {"type": "string"}}})
    @require(Permission.OrganisationsManage)
    def post(self, body: dict[str, Any]) -> Any:
        """Onboard an organisation (Facito operators)"""
        organisation = service.create_organisation(db_session(), current_ctx(), **body)
        location = url_for("organisations.OrganisationById", org_id=organisation.id)
        return _described(organisation, 201, {"Location": location})


@blp.route("/<uuid:org_id>")
class OrganisationById(MethodView):
    @blp.response(200, OrganisationSchema)
    @require(Permission.OrganisationRead)
    def get(self, org_id: UUID) -> Any:
        """Read an organisation's profile and residency"""
        return _described(get_organisation(db_session(), organisation_id=org_id))

    @blp.arguments(OrganisationUpdateSchema)
    @blp.response(200, OrganisationSchema)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.OrganisationsManage)
    def patch(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Change an organisation's name or residency (If-Match required)"""
        organisation = service.update_organisation(
            db_session(), current_ctx(), organisation_id=org_id, if_match=if_match(), changes=body
        )
        return _described(organisation)


def _status_view(action: OrganisationAction, summary: str) -> type[MethodView]:
    class StatusChange(MethodView):
        @blp.arguments(StatusChangeSchema)
        @blp.response(200, OrganisationSchema)
        @require(Permission.OrganisationsManage)
        def post(self, body: dict[str, Any], org_id: UUID) -> Any:
            organisation = service.change_status(
                db_session(),
                current_ctx(),
                organisation_id=org_id,
                action=action,
                reason=body["reason"],
            )
            return _described(organisation)

    StatusChange.post.__doc__ = summary
    return StatusChange


# The class, not its as_view() function: flask-smorest documents only MethodView classes by
# their methods (a plain function is documented as GET, whatever it serves).
blp.add_url_rule(
    "/<uuid:org_id>/suspend",
    "OrganisationSuspend",
    view_func=_status_view(
        OrganisationAction.OrganisationSuspend,
        "Suspend an organisation: its tokens are refused at once",
    ),
)
blp.add_url_rule(
    "/<uuid:org_id>/reactivate",
    "OrganisationReactivate",
    view_func=_status_view(
        OrganisationAction.OrganisationReactivate, "Reactivate a suspended organisation"
    ),
)
blp.add_url_rule(
    "/<uuid:org_id>/offboard",
    "OrganisationOffboard",
    view_func=_status_view(
        OrganisationAction.OrganisationOffboard, "Offboard an organisation (final)"
    ),
)


@registry_blp.route("/regions")
class Regions(MethodView):
    @registry_blp.response(200, RegionSchema(many=True))
    @require()
    def get(self) -> Any:
        """Storage regions, by subprocessor, with their EEA status"""
        return list(REGIONS.values())


@registry_blp.route("/subprocessors")
class Subprocessors(MethodView):
    @registry_blp.response(200, SubprocessorSchema(many=True))
    @require()
    def get(self) -> Any:
        """Subprocessors that store data for Facito"""
        return list(SUBPROCESSORS.values())


@registry_blp.route("/data-categories")
class DataCategories(MethodView):
    @registry_blp.response(200, DataCategorySchema(many=True))
    @require()
    def get(self) -> Any:
        """Data categories: sensitivity, purposes and default retention of each"""
        return list(CATEGORIES.values())
