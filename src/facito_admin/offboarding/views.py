"""The organisation's full exports, and the offboarding certificates Facito keeps."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..common.pagination import PageArgsSchema
from ..http import (
    Blueprint,
    audited_read,
    current_ctx,
    db_session,
    page_response,
    require,
    zip_download,
)
from ..jobs.schemas import JobSchema
from . import certificates, exports
from .schemas import (
    OffboardingCertificatePageSchema,
    OffboardingCertificateQueryArgsSchema,
    OffboardingCertificateSchema,
    OrganisationExportPageSchema,
    OrganisationExportSchema,
)

_LOCATION = {"Location": {"schema": {"type": "string"}}}

exports_blp = Blueprint(
    "organisation_exports",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/exports",
    description="Full exports of the organisation's data (GDPR art. 28(3)(g)): also during "
    "the return period after offboarding",
)
certificates_blp = Blueprint(
    "offboarding_certificates",
    __name__,
    url_prefix="/v1/offboarding-certificates",
    description="What was deleted of offboarded organisations after their return period",
)


@exports_blp.route("")
class OrganisationExports(MethodView):
    @exports_blp.arguments(PageArgsSchema, location="query")
    @exports_blp.response(200, OrganisationExportPageSchema)
    @require(Permission.ExportsRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's full exports, newest first"""
        page = exports.list_exports(db_session(), limit=args["limit"], cursor=args["cursor"])
        return page_response(page, args)

    @exports_blp.doc(operationId="startOrganisationExport")
    @exports_blp.response(202, JobSchema, headers=_LOCATION)
    @require(Permission.ExportsWrite)
    def post(self, org_id: UUID) -> Any:
        """Export all of the organisation's data in the background
        ---
        Returns the job (`Location`); its `params.export_id` names the export, which
        `…/exports/{export_id}/download` serves once the job succeeded: a ZIP with the
        organisation, its accounts, products, groups, linked data with content, preferences
        and their history, guardian consents, legal holds, data-subject requests, contracts,
        deletion certificates, webhook endpoints (no secrets) and the audit log, as JSON lines,
        with `manifest.json`.
        """
        _, job = exports.start_export(db_session(), current_ctx())
        return job, 202, {"Location": url_for("jobs.JobById", org_id=org_id, job_id=job.id)}


@exports_blp.route("/<uuid:export_id>")
class OrganisationExportById(MethodView):
    @exports_blp.response(200, OrganisationExportSchema)
    @require(Permission.ExportsRead)
    def get(self, org_id: UUID, export_id: UUID) -> Any:
        """Read one full export: its status, size, checksum and expiry"""
        return exports.get_export(db_session(), export_id=export_id)


@exports_blp.route("/<uuid:export_id>/download")
class OrganisationExportDownload(MethodView):
    @exports_blp.doc(operationId="downloadOrganisationExport")
    @exports_blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="application/zip",
        description="The export: a ZIP of JSON lines members and manifest.json",
    )
    @exports_blp.alt_response(
        409, description="Its job is still writing it (`organisation-export-not-ready`)"
    )
    @exports_blp.alt_response(
        410, description="The export expired and was deleted (`organisation-export-expired`)"
    )
    @require(Permission.ExportsRead)
    @audited_read(reason="who downloaded the organisation's data")
    def get(self, org_id: UUID, export_id: UUID) -> Any:
        """Download a full export of the organisation's data
        ---
        Until it expires (`FACITO_EXPORT_DAYS` after it was written). Each download is
        recorded in the audit log.
        """
        return zip_download(exports.open_export(db_session(), current_ctx(), export_id=export_id))


@certificates_blp.route("")
class OffboardingCertificates(MethodView):
    @certificates_blp.arguments(OffboardingCertificateQueryArgsSchema, location="query")
    @certificates_blp.response(200, OffboardingCertificatePageSchema)
    @require(Permission.OffboardingCertificatesRead)
    def get(self, args: dict[str, Any]) -> Any:
        """List offboarding certificates, newest first (Facito's operators and DPO)"""
        page = certificates.list_certificates(
            db_session(),
            organisation_id=args["organisation_id"],
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(page, args)


@certificates_blp.route("/<uuid:certificate_id>")
class OffboardingCertificateById(MethodView):
    @certificates_blp.response(200, OffboardingCertificateSchema)
    @require(Permission.OffboardingCertificatesRead)
    def get(self, certificate_id: UUID) -> Any:
        """Read one offboarding certificate"""
        return certificates.get_certificate(db_session(), certificate_id=certificate_id)
