"""Request and response shapes of legal holds, the retention preview, runs and certificates."""

from __future__ import annotations

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import Instant, OutputSchema, QueryBoolean, QuerySchema, StrictSchema, Text
from ..policies.categories import CATEGORIES
from .models import DeletionKind, LegalHoldScope

_CATEGORY_DOC = "A data category key (GET /v1/data-categories)"


class LegalHoldSchema(OutputSchema):
    """A legal hold: while unreleased, nothing it covers is purged (GDPR art. 17(3)(b),(e))."""

    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    scope = ma.fields.Enum(
        LegalHoldScope,
        required=True,
        metadata={"description": "`organisation`, one `account`, or `account_category`"},
    )
    account_id = ma.fields.UUID(required=True, allow_none=True)
    category = ma.fields.String(required=True, allow_none=True)
    reason = ma.fields.String(required=True)
    reference = ma.fields.String(required=True, allow_none=True)
    active = ma.fields.Method("_active", required=True, metadata={"type": "boolean"})
    created_at = ma.fields.DateTime(required=True)
    created_by = ma.fields.String(required=True, attribute="created_by_display")
    created_by_id = ma.fields.String(required=True)
    released_at = ma.fields.DateTime(required=True, allow_none=True)
    released_by = ma.fields.String(required=True, allow_none=True, attribute="released_by_display")
    released_by_id = ma.fields.String(required=True, allow_none=True)
    release_reason = ma.fields.String(required=True, allow_none=True)

    def _active(self, hold: object) -> bool:
        return getattr(hold, "released_at", None) is None


LegalHoldPageSchema = page_schema(LegalHoldSchema, "LegalHoldPageSchema")


class LegalHoldCreateSchema(StrictSchema):
    account_id = ma.fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "Hold one account's data; omit to hold the whole organisation"},
    )
    category = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf(sorted(CATEGORIES)),
        metadata={"description": f"{_CATEGORY_DOC}: hold only that of the account's data"},
    )
    reason = Text(required=True, validate=ma.validate.Length(max=1000))
    reference = Text(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "The matter, case or request number"},
    )


class LegalHoldReleaseSchema(StrictSchema):
    reason = Text(required=True, validate=ma.validate.Length(max=1000))


class LegalHoldQueryArgsSchema(PageArgsSchema):
    active = QueryBoolean(
        load_default=None, metadata={"description": "`true`: active only; `false`: released"}
    )
    account_id = ma.fields.UUID(load_default=None)


class RetentionRunCreateSchema(StrictSchema):
    """No fields: a run purges what the effective policy says has expired, now."""


class RetentionPreviewArgsSchema(QuerySchema):
    until = Instant(
        load_default=None,
        metadata={"description": "RFC 3339 instant the run would happen at; default: now"},
    )


class KeptByHoldsSchema(OutputSchema):
    total = ma.fields.Integer(required=True)
    categories = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    holds = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        required=True,
        metadata={"description": "Legal hold id → how many due records it keeps"},
    )


class RetentionPreviewSchema(OutputSchema):
    """What a retention run at `until` would purge, and what legal holds would keep."""

    until = ma.fields.DateTime(required=True)
    statement_version_label = ma.fields.String(required=True, allow_none=True)
    contract_reference = ma.fields.String(required=True, allow_none=True)
    removable = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        required=True,
        metadata={"description": "Category → records that would be purged"},
    )
    removable_total = ma.fields.Integer(required=True)
    kept_by_holds = ma.fields.Nested(KeptByHoldsSchema, required=True)
    basis = ma.fields.Dict(
        required=True,
        metadata={"description": "The retention values applied, per category, with provenance"},
    )


class DeletionCertificateSchema(OutputSchema):
    """What one purge removed for good, when, on which policy, and what holds kept."""

    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    kind = ma.fields.Enum(DeletionKind, required=True)
    job_id = ma.fields.UUID(required=True, allow_none=True)
    started_at = ma.fields.DateTime(required=True)
    completed_at = ma.fields.DateTime(required=True)
    statement_version_id = ma.fields.UUID(required=True, allow_none=True)
    statement_version_label = ma.fields.String(required=True, allow_none=True)
    contract_id = ma.fields.UUID(required=True, allow_none=True)
    contract_reference = ma.fields.String(required=True, allow_none=True)
    removed = ma.fields.Dict(required=True)
    removed_total = ma.fields.Integer(required=True)
    kept_by_holds = ma.fields.Dict(required=True)
    basis = ma.fields.Dict(required=True)


DeletionCertificatePageSchema = page_schema(
    DeletionCertificateSchema, "DeletionCertificatePageSchema"
)


class DeletionCertificateQueryArgsSchema(PageArgsSchema):
    kind = ma.fields.Enum(DeletionKind, load_default=None)
