"""Request and response shapes of e-mail domains."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import OutputSchema, StrictSchema, Text
from ..tenants.models import DomainStatus
from .domains import DOMAIN_NAME, txt_record_name, txt_record_value


class TxtRecordSchema(OutputSchema):
    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    value = ma.fields.String(required=True)


class EmailDomainSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    domain = ma.fields.String(
        required=True, metadata={"description": "Lowercase ASCII form (IDNA A-labels)"}
    )
    status = ma.fields.Enum(DomainStatus, required=True)
    verification_token = ma.fields.String(required=True)
    txt_record = ma.fields.Method(
        "_txt_record",
        required=True,
        metadata={"description": "The DNS record to create before verifying"},
    )
    verified_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)

    def _txt_record(self, domain: Any) -> dict[str, str]:
        return {
            "name": txt_record_name(domain.domain),
            "type": "TXT",
            "value": txt_record_value(domain.verification_token),
        }


class EmailDomainCreateSchema(StrictSchema):
    domain = Text(
        required=True,
        validate=[
            ma.validate.Length(max=253),
            ma.validate.Regexp(DOMAIN_NAME, error="must be a domain name such as example.com"),
        ],
        metadata={
            "description": "A domain name such as example.com; IDNA names allowed, stored in "
            "lowercase ASCII (A-labels); the last label is not all digits"
        },
    )


class EmailDomainQueryArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(DomainStatus, load_default=None)


EmailDomainPageSchema = page_schema(EmailDomainSchema, "EmailDomainPageSchema")
