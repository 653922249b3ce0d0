"""Legal holds, the retention preview and runs, and deletion certificates of an organisation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..db.base import utcnow
from ..http import Blueprint, current_ctx, db_session, page_response, require
from ..jobs.schemas import JobSchema
from . import certificates, holds, runs
from .schemas import (
    DeletionCertificatePageSchema,
    DeletionCertificateQueryArgsSchema,
    DeletionCertificateSchema,
    LegalHoldCreateSchema,
    LegalHoldPageSchema,
    LegalHoldQueryArgsSchema,
    LegalHoldReleaseSchema,
    LegalHoldSchema,
    RetentionPreviewArgsSchema,
    RetentionPreviewSchema,
    RetentionRunCreateSchema,
)

_ORG = "/v1/organisations/<uuid:org_id>"
_LOCATION = {"Location": {"schema": {"type": "string"}}}

holds_blp = Blueprint(
    "legal_holds",
    __name__,
    url_prefix=f"{_ORG}/legal-holds",
    description="Legal holds: data kept whatever the retention says (GDPR art. 17(3)(b),(e))",
)
retention_blp = Blueprint(
    "retention",
    __name__,
    url_prefix=f"{_ORG}/retention",
    description="Retention of linked data: preview what expires, start a run",
)
certificates_blp = Blueprint(
    "deletion_certificates",
    __name__,
    url_prefix=f"{_ORG}/deletion-certificates",
    description="What retention runs and account purges removed for good",
)


@holds_blp.route("")
class LegalHolds(MethodView):
    @holds_blp.arguments(LegalHoldQueryArgsSchema, location="query")
    @holds_blp.response(200, LegalHoldPageSchema)
    @require(Permission.LegalHoldsRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's legal holds, newest first"""
        page = holds.list_legal_holds(
            db_session(),
            active=args["active"],
            account_id=args["account_id"],
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return page_response(page, args)

    @holds_blp.arguments(LegalHoldCreateSchema)
    @holds_blp.response(201, LegalHoldSchema, headers=_LOCATION)
    @require(Permission.LegalHoldsWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Place a legal hold on the organisation, an account, or an account's category
        ---
        Without `account_id` the whole organisation is held; with it, that account; with
        `category` too, only that account's data of that category. Nothing held is purged
        by retention runs or account purges until the hold is released.
        """
        hold = holds.place_legal_hold(
            db_session(),
            current_ctx(),
            account_id=body["account_id"],
            category=body["category"],
            reason=body["reason"],
            reference=body["reference"],
        )
        location = url_for("legal_holds.LegalHoldById", org_id=org_id, hold_id=hold.id)
        return hold, 201, {"Location": location}


@holds_blp.route("/<uuid:hold_id>")
class LegalHoldById(MethodView):
    @holds_blp.response(200, LegalHoldSchema)
    @require(Permission.LegalHoldsRead)
    def get(self, org_id: UUID, hold_id: UUID) -> Any:
        """Read a legal hold"""
        return holds.get_legal_hold(db_session(), hold_id=hold_id)


@holds_blp.route("/<uuid:hold_id>/release")
class LegalHoldRelease(MethodView):
    @holds_blp.arguments(LegalHoldReleaseSchema)
    @holds_blp.response(200, LegalHoldSchema)
    @holds_blp.alt_response(409, description="The hold is already released")
    @require(Permission.LegalHoldsWrite)
    def post(self, body: dict[str, Any], org_id: UUID, hold_id: UUID) -> Any:
        """Release a legal hold; what it kept follows the retention again"""
        return holds.release_legal_hold(
            db_session(), current_ctx(), hold_id=hold_id, reason=body["reason"]
        )


@retention_blp.route("/preview")
class RetentionPreview(MethodView):
    @retention_blp.arguments(RetentionPreviewArgsSchema, location="query")
    @retention_blp.response(200, RetentionPreviewSchema)
    @require(Permission.RetentionRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """Preview what a retention run at `until` would purge, and what holds would keep
        ---
        Counted with the run's own selection, by the effective policy in force at `until`
        (a contract that starts before then counts) and the legal holds active now.
        """
        return runs.preview_retention(db_session(), until=args["until"] or utcnow())


@retention_blp.route("/runs")
class RetentionRuns(MethodView):
    @retention_blp.doc(operationId="startRetentionRun")
    @retention_blp.arguments(RetentionRunCreateSchema)
    @retention_blp.response(202, JobSchema, headers=_LOCATION)
    @retention_blp.alt_response(409, description="A retention run is queued or running")
    @require(Permission.RetentionWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Start a retention run now; follow the job it returns
        ---
        The run purges, in the background, the linked data whose retention has ended and
        that no legal hold keeps, then writes a deletion certificate (named in the job's
        `result`). Poll the job (`Location`) for progress.
        """
        job = runs.start_retention_run(db_session(), current_ctx())
        return job, 202, {"Location": url_for("jobs.JobById", org_id=org_id, job_id=job.id)}


@certificates_blp.route("")
class DeletionCertificates(MethodView):
    @certificates_blp.arguments(DeletionCertificateQueryArgsSchema, location="query")
    @certificates_blp.response(200, DeletionCertificatePageSchema)
    @require(Permission.RetentionRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List the organisation's deletion certificates, newest first"""
        page = certificates.list_certificates(
            db_session(), kind=args["kind"], limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)


@certificates_blp.route("/<uuid:certificate_id>")
class DeletionCertificateById(MethodView):
    @certificates_blp.response(200, DeletionCertificateSchema)
    @require(Permission.RetentionRead)
    def get(self, org_id: UUID, certificate_id: UUID) -> Any:
        """Read a deletion certificate"""
        return certificates.get_certificate(db_session(), certificate_id=certificate_id)
