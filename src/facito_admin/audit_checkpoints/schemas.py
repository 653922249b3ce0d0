"""Shapes of the audit checkpoints and of Facito's audit keys (a JWK Set)."""

from __future__ import annotations

import marshmallow as ma

from ..common.pagination import page_schema
from ..common.schemas import OutputSchema


class AuditCheckpointSchema(OutputSchema):
    """A signed checkpoint of the organisation's chain head; `jws` is what to keep."""

    id = ma.fields.UUID(required=True)
    seq = ma.fields.Integer(required=True, metadata={"description": "The head's position"})
    hash = ma.fields.String(required=True, metadata={"description": "The head's hash"})
    issued_at = ma.fields.DateTime(required=True)
    key_id = ma.fields.String(
        required=True, metadata={"description": "The signing key (`kid` of the JWS header)"}
    )
    made_by = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["schedule", "request"]),
        metadata={"description": "`schedule` (daily, when the head moved) or `request`"},
    )
    jws = ma.fields.String(
        required=True,
        metadata={
            "description": "Compact JWS (ES256, `typ` facito-audit-checkpoint+jws) of "
            '`{"hash", "issued_at", "organisation_id", "seq"}`; give it to '
            "`…/audit-events/verify?checkpoint=`"
        },
    )


AuditCheckpointPageSchema = page_schema(AuditCheckpointSchema, "AuditCheckpointPageSchema")


class JsonWebKeySchema(OutputSchema):
    kty = ma.fields.String(required=True)
    crv = ma.fields.String(required=True)
    x = ma.fields.String(required=True)
    y = ma.fields.String(required=True)
    kid = ma.fields.String(required=True)
    use = ma.fields.String(required=True)
    alg = ma.fields.String(required=True)


class JsonWebKeySetSchema(OutputSchema):
    keys = ma.fields.List(ma.fields.Nested(JsonWebKeySchema), required=True)
