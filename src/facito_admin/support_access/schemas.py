"""Request and response shapes of support access and the access log."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..auth.permissions import GRANTABLE_KINDS, GrantAccess
from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import Instant, OutputSchema, StrictInteger, StrictSchema, Text
from ..db.base import utcnow
from .models import SupportAccessStatus
from .service import current_status

_KINDS_DOC = (
    "Kinds of resources a read-write grant may change (`accounts`, `entitlements`, `groups`, "
    "`directory-syncs`, `jobs`, `data-records`, `preferences`, `domains`); `data-content` lets "
    "either kind of grant read the content of linked data. A read-only grant reads every kind "
    "but the organisation's support access, access log and exports."
)


class SupportAccessRequestSchema(OutputSchema):
    """A request for support access, and the grant it became."""

    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    status = ma.fields.Method(
        "_status",
        required=True,
        metadata={
            "type": "string",
            "enum": [s.value for s in SupportAccessStatus],
            "description": "Now: a pending request past `expires_at` is `expired`, a grant "
            "past `ends_at` is `ended`",
        },
    )
    requester = ma.fields.String(required=True, attribute="requester_display")
    requester_id = ma.fields.Method(
        "_requester_id", required=True, metadata={"type": "string", "description": "tid:oid"}
    )
    justification = ma.fields.String(required=True)
    ticket_reference = ma.fields.String(required=True)
    access = ma.fields.Enum(GrantAccess, by_value=True, required=True)
    resource_kinds = ma.fields.List(ma.fields.String(), required=True)
    duration_hours = ma.fields.Integer(required=True)
    approval_required = ma.fields.Boolean(
        required=True,
        metadata={"description": "Whether the organisation's policy asked for its approval"},
    )
    requested_at = ma.fields.DateTime(required=True)
    expires_at = ma.fields.DateTime(
        required=True, metadata={"description": "A pending request expires unanswered then"}
    )
    decided_at = ma.fields.DateTime(required=True, allow_none=True)
    decided_by = ma.fields.String(required=True, allow_none=True, attribute="decided_by_display")
    decision_reason = ma.fields.String(required=True, allow_none=True)
    starts_at = ma.fields.DateTime(required=True, allow_none=True)
    ends_at = ma.fields.DateTime(required=True, allow_none=True)
    closed_at = ma.fields.DateTime(required=True, allow_none=True)
    closed_by = ma.fields.String(required=True, allow_none=True, attribute="closed_by_display")
    close_reason = ma.fields.String(required=True, allow_none=True)

    def _status(self, row: Any) -> str:
        return current_status(row, utcnow()).value

    def _requester_id(self, row: Any) -> str:
        return f"{row.requester_tenant_id}:{row.requester_object_id}"


SupportAccessRequestPageSchema = page_schema(
    SupportAccessRequestSchema, "SupportAccessRequestPageSchema"
)


class SupportAccessRequestCreateSchema(StrictSchema):
    organisation_id = ma.fields.UUID(required=True)
    justification = Text(
        required=True,
        validate=ma.validate.Length(min=10, max=2000),
        metadata={"description": "Why access is needed, in words the organisation can judge"},
    )
    ticket_reference = Text(
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "The support ticket this access serves"},
    )
    access = ma.fields.Enum(GrantAccess, by_value=True, required=True)
    resource_kinds = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(sorted(GRANTABLE_KINDS))),
        load_default=list,
        validate=ma.validate.Length(max=len(GRANTABLE_KINDS)),
        metadata={"description": _KINDS_DOC},
    )
    duration_hours = StrictInteger(
        required=True,
        validate=ma.validate.Range(min=1, max=24 * 30),
        metadata={"description": "At most the organisation's `support_access.max_hours`"},
    )


class SupportAccessQueryArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(SupportAccessStatus, load_default=None)


class OwnSupportAccessQueryArgsSchema(SupportAccessQueryArgsSchema):
    organisation_id = ma.fields.UUID(load_default=None)


class SupportAccessApprovalSchema(StrictSchema):
    duration_hours = StrictInteger(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=24 * 30),
        metadata={"description": "Shorten the grant (at most the hours requested)"},
    )
    reason = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=1000))


class SupportAccessReasonSchema(StrictSchema):
    reason = Text(required=True, validate=ma.validate.Length(min=1, max=1000))


class SupportAccessReleaseSchema(StrictSchema):
    reason = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=1000))


class AccessLogEntrySchema(OutputSchema):
    """One call a Facito staff member made inside the organisation."""

    id = ma.fields.UUID(required=True, metadata={"description": "The audit event's id"})
    seq = ma.fields.Integer(required=True, metadata={"description": "Its place in the chain"})
    occurred_at = ma.fields.DateTime(required=True)
    staff_member = ma.fields.String(required=True, attribute="actor_display")
    staff_member_id = ma.fields.Method(
        "_staff_id", required=True, metadata={"type": "string", "description": "tid:oid"}
    )
    outcome = ma.fields.String(required=True, metadata={"description": "`success` or `refused`"})
    method = ma.fields.Method("_method", required=True, metadata={"type": "string"})
    path = ma.fields.Method("_path", required=True, metadata={"type": "string"})
    status = ma.fields.Method("_http_status", required=True, metadata={"type": "integer"})
    grant_id = ma.fields.Method(
        "_grant_id",
        required=True,
        metadata={"type": ["string", "null"], "format": "uuid", "description": "None: no grant"},
    )
    justification = ma.fields.Method(
        "_justification", required=True, metadata={"type": ["string", "null"]}
    )
    ticket_reference = ma.fields.Method(
        "_ticket", required=True, metadata={"type": ["string", "null"]}
    )
    request_id = ma.fields.String(required=True)

    def _staff_id(self, event: Any) -> str:
        return f"{event.actor_tid}:{event.actor_oid}"

    def _method(self, event: Any) -> Any:
        return event.details.get("method")

    def _path(self, event: Any) -> Any:
        return event.details.get("path")

    def _http_status(self, event: Any) -> Any:
        return event.details.get("status")

    def _grant_id(self, event: Any) -> Any:
        return event.details.get("grant_id")

    def _justification(self, event: Any) -> Any:
        return event.details.get("justification")

    def _ticket(self, event: Any) -> Any:
        return event.details.get("ticket_reference")


AccessLogPageSchema = page_schema(AccessLogEntrySchema, "AccessLogPageSchema")


class AccessLogQueryArgsSchema(PageArgsSchema):
    grant_id = ma.fields.UUID(load_default=None, metadata={"description": "Calls under a grant"})
    staff_member_oid = ma.fields.String(
        load_default=None, validate=ma.validate.Length(min=1, max=36)
    )
    since = Instant(load_default=None)
    until = Instant(load_default=None)
