"""Shapes of the organisation's exports and of offboarding certificates."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import OutputSchema
from .exports import status_of


class OrganisationExportSchema(OutputSchema):
    """A full export of the organisation's data: follow its job, then download it."""

    id = ma.fields.UUID(required=True)
    status = ma.fields.Method(
        "_status",
        required=True,
        metadata={
            "type": "string",
            "enum": ["pending", "ready", "expired"],
            "description": "pending while its job writes it; expired (and deleted) after "
            "`expires_at`",
        },
    )
    job_id = ma.fields.UUID(required=True, metadata={"description": "Its progress: …/jobs/{id}"})
    requested_by_display = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    completed_at = ma.fields.DateTime(required=True, allow_none=True)
    expires_at = ma.fields.DateTime(required=True, allow_none=True)
    bytes = ma.fields.Integer(required=True, allow_none=True)
    sha256 = ma.fields.String(required=True, allow_none=True)
    counts = ma.fields.Dict(
        required=True, metadata={"description": "What the archive holds, per member"}
    )

    def _status(self, export: Any) -> str:
        return status_of(export)


OrganisationExportPageSchema = page_schema(OrganisationExportSchema, "OrganisationExportPageSchema")


class OffboardingCertificateSchema(OutputSchema):
    """What was deleted of an offboarded organisation after its return period, and what
    legal holds kept."""

    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    organisation_slug = ma.fields.String(required=True)
    organisation_name = ma.fields.String(required=True)
    offboarded_at = ma.fields.DateTime(required=True, allow_none=True)
    data_return_until = ma.fields.DateTime(required=True)
    return_basis = ma.fields.Dict(
        required=True,
        metadata={"description": "The return period applied and the document that set it"},
    )
    started_at = ma.fields.DateTime(required=True)
    completed_at = ma.fields.DateTime(
        required=True, allow_none=True, metadata={"description": "null while under way"}
    )
    removed = ma.fields.Dict(required=True, metadata={"description": "Rows deleted per table"})
    removed_total = ma.fields.Integer(required=True)
    kept_by_holds = ma.fields.Dict(
        required=True, metadata={"description": "Rows legal holds kept, per table, and the holds"}
    )
    facito_event_seq = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The certifying event on Facito's own audit chain"},
    )


OffboardingCertificatePageSchema = page_schema(
    OffboardingCertificateSchema, "OffboardingCertificatePageSchema"
)


class OffboardingCertificateQueryArgsSchema(PageArgsSchema):
    organisation_id = ma.fields.UUID(load_default=None)
