"""Request and response shapes of organisations, regions and subprocessors."""

from __future__ import annotations

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import OutputSchema, StrictSchema
from ..policies.regions import REGIONS
from ..tenants.models import OrganisationStatus

_name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))


def _region(*, required: bool = False) -> ma.fields.String:
    # The registry is code, so the document can list its codes (an enum clients can rely on).
    return ma.fields.String(
        required=required,
        validate=ma.validate.OneOf(sorted(REGIONS)),
        metadata={"description": "Region code from /v1/regions"},
    )


class OrganisationSummarySchema(OutputSchema):
    """An organisation in a list; reading it shows its residency status as well."""

    id = ma.fields.UUID(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    status = ma.fields.Enum(OrganisationStatus, required=True)
    status_reason = ma.fields.String(allow_none=True)
    status_changed_at = ma.fields.DateTime(allow_none=True)
    primary_region = ma.fields.String(required=True)
    backup_region = ma.fields.String(required=True)
    offboarded_at = ma.fields.DateTime(allow_none=True)
    data_return_until = ma.fields.DateTime(
        allow_none=True,
        metadata={
            "description": "Offboarded: until then the organisation's callers may read and "
            "export its data (the effective `offboarding.return_days`); then it is deleted, "
            "except what legal holds keep"
        },
    )
    data_return_basis = ma.fields.Dict(
        allow_none=True,
        metadata={"description": "The return period applied: days, and the document that set it"},
    )
    data_deleted_at = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "When the data was deleted after the return period"},
    )
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class ResidencyProblemSchema(OutputSchema):
    field = ma.fields.String(
        required=True, metadata={"description": "primary_region or backup_region"}
    )
    region = ma.fields.String(required=True)
    rule = ma.fields.String(required=True, metadata={"description": "The policy key it breaks"})
    detail = ma.fields.String(required=True)
    source = ma.fields.String(required=True, metadata={"description": "statement or contract"})
    document = ma.fields.String(
        required=True, metadata={"description": "Statement version or contract reference"}
    )
    document_id = ma.fields.String(required=True, allow_none=True)
    since = ma.fields.DateTime(
        required=True, metadata={"description": "From this instant on (now, or a later one)"}
    )


class OrganisationSchema(OrganisationSummarySchema):
    residency_status = ma.fields.String(
        required=True,
        metadata={
            "description": "Whether the regions satisfy the effective policy: `valid`, "
            "`invalid` (now) or `becomes_invalid` (when a recorded document takes effect)"
        },
    )
    residency_problems = ma.fields.List(ma.fields.Nested(ResidencyProblemSchema), required=True)


class OrganisationCreateSchema(StrictSchema):
    slug = ma.fields.String(
        required=True,
        # The service lowercases the slug before it checks this pattern (service.SLUG).
        validate=ma.validate.Regexp(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"),
        metadata={"description": "Letters, digits and hyphens (stored lowercase)"},
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    primary_region = _region(required=True)
    backup_region = _region(required=True)


class OrganisationUpdateSchema(StrictSchema):
    name = _name
    primary_region = _region()
    backup_region = _region()


class StatusChangeSchema(StrictSchema):
    reason = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500))


class OrganisationQueryArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(OrganisationStatus, load_default=None)


OrganisationPageSchema = page_schema(OrganisationSummarySchema, "OrganisationPageSchema")


class RegionSchema(OutputSchema):
    code = ma.fields.String(required=True)
    subprocessor = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    country = ma.fields.String(required=True)
    eea = ma.fields.Boolean(required=True)


class DataCategorySchema(OutputSchema):
    key = ma.fields.String(
        required=True,
        metadata={
            "description": "Names the category in data records, legal holds and the "
            "`retention.days.<key>` policy parameter"
        },
    )
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    sensitive = ma.fields.Boolean(
        required=True,
        metadata={"description": "Kept no longer than `retention.sensitive_max_days`"},
    )
    purposes = ma.fields.List(ma.fields.String(), required=True)
    advertising_allowed = ma.fields.Boolean(
        required=True,
        metadata={"description": "Whether the data may ever select advertisements"},
    )
    default_retention_days = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Days kept where no statement or contract sets `retention.days.<key>`"
        },
    )


class SubprocessorSchema(OutputSchema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
