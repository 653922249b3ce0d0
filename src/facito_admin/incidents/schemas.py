"""Request and response shapes of incidents: Facito's record, and an organisation's notice."""

from __future__ import annotations

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import Instant, OutputSchema, StrictSchema, Text
from ..policies.categories import CATEGORIES
from .clock import AUTHORITY_NOTIFICATION_HOURS
from .models import AssessmentDecision, IncidentStatus, UpdateKind

_TEXT_MAX = 4000
_ORGANISATIONS_MAX = 1000
_ORGANISATIONS_DOC = "Ids of the organisations the incident affects (each must exist)"


# --- Facito's side ---------------------------------------------------------------------------


class IncidentCreateSchema(StrictSchema):
    title = Text(required=True, validate=ma.validate.Length(max=200))
    description = Text(
        required=True,
        validate=ma.validate.Length(max=_TEXT_MAX),
        metadata={"description": "What happened (affected organisations read it)"},
    )
    occurred_at = Instant(
        load_default=None,
        allow_none=True,
        metadata={"description": "When it happened, if known (not after `detected_at`)"},
    )
    detected_at = Instant(
        required=True, metadata={"description": "When Facito became aware (not in the future)"}
    )
    data_categories = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(sorted(CATEGORIES))),
        required=True,
        validate=ma.validate.Length(min=1, max=len(CATEGORIES)),
        metadata={"description": "Data categories affected (GET /v1/data-categories)"},
    )
    measures = Text(
        required=True,
        validate=ma.validate.Length(max=_TEXT_MAX),
        metadata={"description": "Measures taken or proposed (art. 33(3)(d))"},
    )
    organisation_ids = ma.fields.List(
        ma.fields.UUID(),
        load_default=list,
        validate=ma.validate.Length(max=_ORGANISATIONS_MAX),
        metadata={"description": f"{_ORGANISATIONS_DOC}: each is notified at once"},
    )


class IncidentUpdateCreateSchema(StrictSchema):
    text = Text(required=True, validate=ma.validate.Length(max=_TEXT_MAX))
    measures = Text(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=_TEXT_MAX),
        metadata={"description": "The measures as they now stand, when they changed"},
    )
    organisation_ids = ma.fields.List(
        ma.fields.UUID(),
        load_default=list,
        validate=ma.validate.Length(max=_ORGANISATIONS_MAX),
        metadata={
            "description": f"{_ORGANISATIONS_DOC}: those not yet affected are added and "
            "notified at once"
        },
    )


class IncidentCloseSchema(StrictSchema):
    text = Text(
        required=True,
        validate=ma.validate.Length(max=_TEXT_MAX),
        metadata={"description": "How the incident ended"},
    )
    measures = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=_TEXT_MAX))


class IncidentQueryArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(IncidentStatus, load_default=None)


class IncidentUpdateSchema(OutputSchema):
    seq = ma.fields.Integer(required=True, metadata={"description": "1 for the first update"})
    kind = ma.fields.Enum(UpdateKind, required=True)
    text = ma.fields.String(required=True)
    measures = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    author = ma.fields.String(required=True)


class AffectedOrganisationSchema(OutputSchema):
    organisation_id = ma.fields.UUID(required=True)
    added_at = ma.fields.DateTime(required=True)
    notified_at = ma.fields.DateTime(
        required=True, allow_none=True, metadata={"description": "When it was told (its clock)"}
    )
    delivered_seq = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The last update it was told of (0: the report)"},
    )


class _IncidentFields(OutputSchema):
    """What Facito and an affected organisation both see of an incident (``incident.*``)."""

    id = ma.fields.UUID(required=True, attribute="incident.id")
    title = ma.fields.String(required=True, attribute="incident.title")
    description = ma.fields.String(required=True, attribute="incident.description")
    occurred_at = ma.fields.DateTime(
        required=True, allow_none=True, attribute="incident.occurred_at"
    )
    detected_at = ma.fields.DateTime(required=True, attribute="incident.detected_at")
    data_categories = ma.fields.List(
        ma.fields.String(), required=True, attribute="incident.data_categories"
    )
    measures = ma.fields.String(required=True, attribute="incident.measures")
    status = ma.fields.Enum(IncidentStatus, required=True, attribute="incident.status")


class IncidentSchema(_IncidentFields):
    recorded_by = ma.fields.String(required=True, attribute="incident.recorded_by")
    created_at = ma.fields.DateTime(required=True, attribute="incident.created_at")
    updated_at = ma.fields.DateTime(required=True, attribute="incident.updated_at")
    closed_at = ma.fields.DateTime(required=True, allow_none=True, attribute="incident.closed_at")
    updates = ma.fields.List(ma.fields.Nested(IncidentUpdateSchema), required=True)
    organisations = ma.fields.List(ma.fields.Nested(AffectedOrganisationSchema), required=True)


IncidentPageSchema = page_schema(IncidentSchema, "IncidentPageSchema")


# --- an affected organisation's side ---------------------------------------------------------


class IncidentAssessmentCreateSchema(StrictSchema):
    decision = ma.fields.Enum(
        AssessmentDecision,
        required=True,
        metadata={
            "description": "`authority_notified`: the organisation notified its supervisory "
            "authority; `not_notified`: it found no risk to people and need not (art. 33(1))"
        },
    )
    reason = Text(required=True, validate=ma.validate.Length(max=_TEXT_MAX))
    authority_reference = Text(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "The authority's reference of the notification, if any"},
    )


class IncidentAssessmentSchema(OutputSchema):
    decision = ma.fields.Enum(AssessmentDecision, required=True)
    reason = ma.fields.String(required=True)
    authority_reference = ma.fields.String(required=True, allow_none=True)
    assessed_at = ma.fields.DateTime(required=True)
    assessed_by = ma.fields.String(required=True)


class IncidentNoticeUpdateSchema(OutputSchema):
    seq = ma.fields.Integer(required=True)
    kind = ma.fields.Enum(UpdateKind, required=True)
    text = ma.fields.String(required=True)
    measures = ma.fields.String(required=True, allow_none=True)
    at = ma.fields.DateTime(required=True, attribute="created_at")


class IncidentNoticeSchema(_IncidentFields):
    """An incident that affects the organisation, with its own 72-hour clock."""

    closed_at = ma.fields.DateTime(required=True, allow_none=True, attribute="incident.closed_at")
    notified_at = ma.fields.DateTime(
        required=True,
        attribute="notice.notified_at",
        metadata={"description": "When Facito told the organisation: its clock starts"},
    )
    authority_deadline = ma.fields.DateTime(
        required=True,
        attribute="clock.deadline",
        metadata={
            "description": f"`notified_at` + {AUTHORITY_NOTIFICATION_HOURS} hours: notify the "
            "supervisory authority by then (art. 33(1))"
        },
    )
    seconds_left = ma.fields.Integer(
        required=True,
        allow_none=True,
        attribute="clock.seconds_left",
        metadata={"description": "Until the deadline, never below 0; null once assessed"},
    )
    deadline_passed = ma.fields.Boolean(
        required=True,
        attribute="clock.deadline_passed",
        metadata={"description": "Now, or when the organisation assessed"},
    )
    clock_stopped = ma.fields.Boolean(
        required=True,
        attribute="clock.stopped",
        metadata={"description": "The organisation recorded its assessment"},
    )
    assessment = ma.fields.Nested(IncidentAssessmentSchema, required=True, allow_none=True)
    updates = ma.fields.List(ma.fields.Nested(IncidentNoticeUpdateSchema), required=True)


IncidentNoticePageSchema = page_schema(IncidentNoticeSchema, "IncidentNoticePageSchema")
