"""Request and response shapes of data-subject requests (both queues and the subject's view)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..accounts.schemas import AccountUpdateSchema
from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import (
    UNSTORABLE,
    Instant,
    OutputSchema,
    QueryBoolean,
    StrictInteger,
    StrictSchema,
    Text,
)
from ..consents.preferences import SETTINGS
from ..policies.categories import CATEGORIES
from . import handling
from .models import (
    DESCRIPTION_LENGTH,
    REASON_LENGTH,
    Channel,
    RequesterKind,
    RequestKind,
    RequestStatus,
)

_KIND_DOC = (
    "`access` (art. 15), `portability` (art. 20), `rectification` (art. 16), `erasure` "
    "(art. 17), `restriction` (art. 18), `objection` (art. 21), `consent_withdrawal` "
    "(art. 7(3)), or `question` (a privacy question or complaint, answered in time too)"
)


# --- input ---------------------------------------------------------------------------------


class RequestedScopeSchema(StrictSchema):
    """What the request is limited to or asks for beyond its kind."""

    categories = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(sorted(CATEGORIES))),
        load_default=list,
        validate=ma.validate.Length(max=len(CATEGORIES)),
        metadata={"description": "Only these data categories (GET /v1/data-categories)"},
    )
    products = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        load_default=list,
        validate=ma.validate.Length(max=100),
        metadata={"description": "Only the data of these products"},
    )
    changes = ma.fields.Nested(
        AccountUpdateSchema,
        load_default=None,
        metadata={"description": "A rectification's corrections of the account's attributes"},
    )
    preferences = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(SETTINGS)),
        load_default=list,
        validate=ma.validate.Length(max=len(SETTINGS)),
        metadata={
            "description": "An objection's or consent withdrawal's settings (`channels.email`, "
            "`interest_based_advertising`, …); none named: every marketing and advertising one"
        },
    )

    @ma.post_load
    def _changes_as_json(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        # The scope is stored as JSON: a birth date or a manager's id in the form the API
        # takes, loaded again (and checked again) when the rectification is carried out.
        if data.get("changes"):
            data["changes"] = AccountUpdateSchema().dump(data["changes"])
        return data


class _RequestInSchema(StrictSchema):
    kind = ma.fields.Enum(RequestKind, required=True, metadata={"description": _KIND_DOC})
    description = Text(
        required=True,
        validate=ma.validate.Length(max=DESCRIPTION_LENGTH),
        metadata={"description": "What the subject asks, in their words"},
    )
    scope = ma.fields.Nested(RequestedScopeSchema, load_default=lambda: {})


class OwnSubjectRequestCreateSchema(_RequestInSchema):
    """A request about yourself: your token proves who you are."""


class SubjectRequestCreateSchema(_RequestInSchema):
    account_id = ma.fields.UUID(
        required=True, metadata={"description": "The subject: an account of the organisation"}
    )
    channel = ma.fields.Enum(
        Channel,
        load_default=Channel.web_form,
        metadata={
            "description": "How the request reached you; `email`, `phone` and `post` start "
            "`verification_pending` until someone verifies the subject"
        },
    )
    on_behalf_of = ma.fields.Enum(
        RequesterKind,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "`administrator` (default for people) or `guardian` (a guardian's "
            "request for a minor, with `guardian_consent_id`); integrations file as themselves"
        },
    )
    guardian_consent_id = ma.fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "The guardian consent in force a guardian's request rests on"},
    )


class SubjectIdentitySchema(StrictSchema):
    """Who the subject is, as they gave it: the DPO answers them at this address."""

    display_name = Text(required=True, validate=ma.validate.Length(max=200))
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))

    @ma.validates("email")
    def _email_text(self, value: str, **_kwargs: Any) -> None:
        if UNSTORABLE.search(value):
            raise ma.ValidationError("must not contain control characters")


# How a personal subject's request reaches Facito's DPO or support (never `api`: a personal
# subject has no token of an organisation).
FACITO_CHANNELS = (Channel.email, Channel.phone, Channel.post, Channel.web_form, Channel.in_person)


class FacitoSubjectRequestCreateSchema(_RequestInSchema):
    """A personal subject's request, recorded by Facito's DPO or support."""

    subject = ma.fields.Nested(SubjectIdentitySchema, required=True)
    # A string of the allowed values (an Enum field would document `api` too).
    channel = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf([channel.value for channel in FACITO_CHANNELS]),
        metadata={
            "description": "How the request reached you; `email`, `phone` and `post` start "
            "`verification_pending` until the DPO verifies the subject"
        },
    )

    @ma.post_load
    def _channel(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return data | {"channel": Channel(data["channel"])}


class SubjectVerificationSchema(StrictSchema):
    method = Text(
        required=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "How the subject's identity was verified"},
    )
    note = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=REASON_LENGTH))


class SubjectRequestAssignSchema(StrictSchema):
    assignee_object_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Regexp(r"^[0-9a-fA-F-]{36}$"),
        metadata={
            "description": "The Entra object id of a person of your tenant; omit to take the "
            "request yourself"
        },
    )
    assignee_name = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))


class SubjectRequestExtensionSchema(StrictSchema):
    days = StrictInteger(required=True, validate=ma.validate.Range(min=1, max=365))
    reason = Text(
        required=True,
        validate=ma.validate.Length(max=REASON_LENGTH),
        metadata={"description": "Why (art. 12(3)): the subject is told"},
    )


class SubjectRequestMessageSchema(StrictSchema):
    message = Text(required=True, validate=ma.validate.Length(max=REASON_LENGTH))


class SubjectRequestResumeSchema(StrictSchema):
    message = Text(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=REASON_LENGTH)
    )


class SubjectRequestCompletionSchema(StrictSchema):
    summary = Text(
        required=True,
        validate=ma.validate.Length(max=REASON_LENGTH),
        metadata={"description": "What was done, in words the subject reads"},
    )


class SubjectRequestRejectionSchema(StrictSchema):
    reasons = ma.fields.List(
        Text(validate=ma.validate.Length(max=REASON_LENGTH)),
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "Why (art. 12(4)); the answer names the right to complain"},
    )


class SubjectRequestCancelSchema(StrictSchema):
    reason = Text(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=REASON_LENGTH)
    )


class SubjectRequestQueryArgsSchema(PageArgsSchema):
    status = ma.fields.List(
        ma.fields.Enum(RequestStatus),
        load_default=list,
        metadata={"description": "Any of these statuses (repeat the parameter)"},
    )
    kind = ma.fields.Enum(RequestKind, load_default=None)
    account_id = ma.fields.UUID(load_default=None)
    open = QueryBoolean(load_default=None, metadata={"description": "`true`: not yet answered"})
    overdue = QueryBoolean(
        load_default=None,
        metadata={"description": "`true`: open, past due, not awaiting the subject"},
    )
    due_before = Instant(load_default=None)
    assigned_to_me = QueryBoolean(load_default=None)


class FacitoSubjectRequestQueryArgsSchema(SubjectRequestQueryArgsSchema):
    class Meta(SubjectRequestQueryArgsSchema.Meta):
        # Accounts belong to organisations; the DPO queue is searched by its own filters.
        exclude = ("account_id",)


# --- output --------------------------------------------------------------------------------


class SubjectRequestTimelineEntrySchema(OutputSchema):
    at = ma.fields.String(required=True, metadata={"format": "date-time"})
    event = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "Status after the event"})
    actor = ma.fields.Dict(required=True, metadata={"description": "`{kind, display}`"})
    details = ma.fields.Dict(required=True)


class SupervisoryAuthoritySchema(OutputSchema):
    name = ma.fields.String(required=True)
    url = ma.fields.String(required=True)
    right = ma.fields.String(required=True)


class SubjectRequestSchema(OutputSchema):
    """A data-subject request: who asked what, when it is due, what was decided."""

    id = ma.fields.UUID(required=True)
    reference = ma.fields.String(required=True)
    organisation_id = ma.fields.UUID(required=True)
    queue = ma.fields.String(required=True, metadata={"description": "`organisation`"})
    kind = ma.fields.Enum(RequestKind, required=True)
    status = ma.fields.Enum(RequestStatus, required=True)
    account_id = ma.fields.UUID(required=True, allow_none=True, attribute="subject_account_id")
    subject = ma.fields.Dict(
        required=True,
        attribute="subject_identity",
        metadata={"description": "The subject as filed: name, UPN, e-mail"},
    )
    requester_kind = ma.fields.Enum(RequesterKind, required=True)
    requester = ma.fields.String(required=True, attribute="requester_display")
    guardian_consent_id = ma.fields.UUID(required=True, allow_none=True)
    channel = ma.fields.Enum(Channel, required=True)
    description = ma.fields.String(required=True)
    scope = ma.fields.Dict(required=True)
    received_at = ma.fields.DateTime(required=True)
    verified_at = ma.fields.DateTime(required=True, allow_none=True)
    response_days = ma.fields.Integer(required=True)
    original_due_at = ma.fields.DateTime(required=True)
    due_at = ma.fields.DateTime(required=True)
    overdue = ma.fields.Method("_overdue", required=True, metadata={"type": "boolean"})
    awaiting_subject_since = ma.fields.DateTime(
        required=True, allow_none=True, attribute="awaiting_since"
    )
    extension_days = ma.fields.Integer(required=True)
    max_extension_days = ma.fields.Integer(required=True)
    extension_reason = ma.fields.String(required=True, allow_none=True)
    extension_notified_at = ma.fields.DateTime(required=True, allow_none=True)
    routing = ma.fields.Dict(
        required=True, metadata={"description": "The rule that routed it here, and why"}
    )
    linked_request_id = ma.fields.UUID(
        required=True,
        allow_none=True,
        metadata={"description": "The part of the request in the other controller's queue"},
    )
    assignee = ma.fields.String(required=True, allow_none=True, attribute="assignee_display")
    assignee_id = ma.fields.String(required=True, allow_none=True)
    decided_at = ma.fields.DateTime(required=True, allow_none=True)
    decided_by = ma.fields.String(required=True, allow_none=True, attribute="decided_by_display")
    decision_summary = ma.fields.String(required=True, allow_none=True)
    rejection_reasons = ma.fields.List(ma.fields.String(), required=True, allow_none=True)
    supervisory_authority = ma.fields.Method(
        "_authority",
        required=True,
        allow_none=True,
        metadata={"description": "Where to complain: set on a rejected request"},
    )
    job_ids = ma.fields.List(ma.fields.String(), required=True)
    results = ma.fields.Dict(required=True)
    timeline = ma.fields.List(ma.fields.Nested(SubjectRequestTimelineEntrySchema), required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)

    def _overdue(self, request: Any) -> bool:
        return handling.is_overdue(request)

    def _authority(self, request: Any) -> dict[str, str] | None:
        rejected = getattr(request, "status", None) is RequestStatus.rejected
        return dict(handling.SUPERVISORY_AUTHORITY) if rejected else None


SubjectRequestPageSchema = page_schema(SubjectRequestSchema, "SubjectRequestPageSchema")


class OwnSubjectRequestSchema(SubjectRequestSchema):
    """Your request as you see it: status, due time, timeline and outcome."""

    class Meta(SubjectRequestSchema.Meta):
        exclude = ("assignee_id", "job_ids", "results", "requester")


OwnSubjectRequestPageSchema = page_schema(OwnSubjectRequestSchema, "OwnSubjectRequestPageSchema")


class FacitoSubjectRequestSchema(SubjectRequestSchema):
    """A request in Facito's DPO queue: a personal subject's, or the part of an organisation
    user's request about data Facito controls itself."""

    class Meta(SubjectRequestSchema.Meta):
        # The DPO answers by hand: fulfilment jobs run in an organisation.
        exclude = ("organisation_id", "job_ids", "results")

    queue = ma.fields.String(required=True, metadata={"description": "`facito_dpo`"})
    subject_organisation_id = ma.fields.UUID(
        required=True,
        allow_none=True,
        metadata={
            "description": "The organisation managing the subject's account, when this is the "
            "part of its request split off to the DPO; null for a personal subject"
        },
    )


FacitoSubjectRequestPageSchema = page_schema(
    FacitoSubjectRequestSchema, "FacitoSubjectRequestPageSchema"
)


# --- processing restrictions (art. 18) ---------------------------------------------------


class ProcessingRestrictionLiftSchema(StrictSchema):
    reason = Text(
        required=True,
        validate=ma.validate.Length(max=REASON_LENGTH),
        metadata={"description": "Why the restriction ends (the subject reads it)"},
    )


class ProcessingRestrictionSchema(OutputSchema):
    """An account's restriction of processing: its data is kept but not otherwise used."""

    id = ma.fields.UUID(required=True)
    account_id = ma.fields.UUID(required=True)
    request_id = ma.fields.UUID(
        required=True, allow_none=True, metadata={"description": "The request that placed it"}
    )
    reason = ma.fields.String(required=True)
    restricted_at = ma.fields.DateTime(required=True)
    lifted_at = ma.fields.DateTime(required=True, allow_none=True)
    lift_reason = ma.fields.String(required=True, allow_none=True)
