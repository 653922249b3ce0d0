"""Request and response shapes of the audit log: events, filters, exports, chain reports."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import InputSchema, Instant, OutputSchema, QuerySchema
from .chain import BreakReason
from .export import ExportFormat
from .verification import CheckpointReason

# Actions are `scope:resource:action` in lowercase (each domain's actions.py); a trailing `*`
# asks for a prefix. Anything else cannot match and is a client mistake.
_ACTION_FILTER = r"^[a-z0-9:._-]*\*?$"
_ORDER = ma.validate.OneOf(["asc", "desc"])


class AuditEventSchema(OutputSchema):
    """One event; the fields (but prev_hash and hash) are what its hash covers."""

    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    seq = ma.fields.Integer(
        required=True, metadata={"description": "Position in the chain: 1, 2, 3, … no gaps"}
    )
    occurred_at = ma.fields.DateTime(required=True)
    actor_kind = ma.fields.String(required=True)
    actor_tid = ma.fields.String(required=True, metadata={"description": "Entra tenant id"})
    actor_oid = ma.fields.String(required=True, metadata={"description": "Entra object id"})
    actor_display = ma.fields.String(required=True)
    action = ma.fields.String(required=True, metadata={"description": "scope:resource:action"})
    target_type = ma.fields.String(required=True)
    target_id = ma.fields.String(required=True)
    outcome = ma.fields.String(required=True)
    request_id = ma.fields.String(required=True)
    details = ma.fields.Dict(required=True)
    prev_hash = ma.fields.String(required=True, metadata={"description": "hash of seq - 1"})
    hash = ma.fields.String(
        required=True, metadata={"description": "SHA-256 of the canonical event and prev_hash"}
    )


AuditEventPageSchema = page_schema(AuditEventSchema, "AuditEventPageSchema")


class AuditEventFilterArgsSchema(InputSchema):
    actor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=36),
        metadata={"description": "Object id (oid) of the actor"},
    )
    action = ma.fields.String(
        load_default=None,
        validate=[ma.validate.Length(min=1, max=101), ma.validate.Regexp(_ACTION_FILTER)],
        metadata={"description": "An action, or a prefix ending in `*` (`org:federation:*`)"},
    )
    target = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Id of the target"},
    )
    since = Instant(load_default=None, metadata={"description": "Events at or after this instant"})
    until = Instant(
        load_default=None,
        metadata={"description": "Events before this instant; later than `since`"},
    )

    @ma.validates_schema
    def _window(self, data: dict[str, Any], **_kwargs: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since >= until:
            raise ma.ValidationError("must be later than since", field_name="until")


class AuditEventQueryArgsSchema(PageArgsSchema, AuditEventFilterArgsSchema):
    order = ma.fields.String(
        load_default="desc",
        validate=_ORDER,
        metadata={"description": "`desc` newest first (default), `asc` oldest first"},
    )


class AuditExportArgsSchema(AuditEventFilterArgsSchema):
    fmt = ma.fields.Enum(
        ExportFormat,
        data_key="format",
        load_default=ExportFormat.jsonl,
        metadata={"description": "`jsonl` (JSON lines, verifiable) or `csv` (spreadsheets)"},
    )
    order = ma.fields.String(
        load_default="asc",
        validate=_ORDER,
        metadata={"description": "`asc` chain order (default), `desc` newest first"},
    )


class BrokenLinkSchema(OutputSchema):
    seq = ma.fields.Integer(required=True)
    event_id = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The event found there; null when the event is missing"},
    )
    reason = ma.fields.Enum(BreakReason, by_value=True, required=True)


class ChainReportSchema(OutputSchema):
    valid = ma.fields.Boolean(required=True)
    checked = ma.fields.Integer(required=True, metadata={"description": "Events recomputed"})
    first_broken = ma.fields.Nested(BrokenLinkSchema, required=True, allow_none=True)


class PrunedEventsSchema(OutputSchema):
    """What pruning past the retention removed: the chain resumes after ``through_seq``."""

    through_seq = ma.fields.Integer(
        required=True, attribute="seq", metadata={"description": "The last pruned event's seq"}
    )
    through_hash = ma.fields.String(
        required=True,
        attribute="hash",
        metadata={"description": "Its hash: the first remaining event's prev_hash"},
    )
    count = ma.fields.Integer(required=True, metadata={"description": "Events pruned in all"})
    at = ma.fields.DateTime(required=True, metadata={"description": "When pruning last ran"})


class ChainHeadSchema(OutputSchema):
    """The last sealed event of the chain, as verified."""

    seq = ma.fields.Integer(required=True, metadata={"description": "0 for an empty chain"})
    hash = ma.fields.String(
        required=True, metadata={"description": "Its hash (the genesis hash when empty)"}
    )


class WaitingEventsSchema(OutputSchema):
    """Events recorded with their change but not yet linked into the chain by the sealer."""

    count = ma.fields.Integer(required=True)
    oldest_recorded_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When the oldest of them was recorded; null when none wait"},
    )


class AuditVerifyArgsSchema(QuerySchema):
    checkpoint = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=4096),
        metadata={
            "description": "A checkpoint you kept (the compact JWS of `audit.checkpoint` or of "
            "…/audit-checkpoints): the report then says whether today's chain extends it"
        },
    )


_CHECKPOINT_REASONS = (
    "`extended`: the event at `seq` has `hash` and the chain from there to the head holds; "
    "`extended-from-prune`: that event was the last one pruned, the prune checkpoint has its "
    "seq and hash and the chain from there holds; `pruned`: the event was pruned with later "
    "ones, the chain can neither confirm nor deny it (`matches` null); `hash-mismatch`: the "
    "event at `seq` has another hash (history was rewritten); `missing-event`: no event at "
    "`seq` and pruning does not explain it; `beyond-head`: `seq` is past today's head (the "
    "chain was cut back); `broken-after`: the chain from the checkpoint to the head does not "
    "hold (`first_broken`)"
)


class CheckpointCheckSchema(OutputSchema):
    """A checkpoint the customer kept, checked against today's chain."""

    seq = ma.fields.Integer(required=True, attribute="claims.seq")
    hash = ma.fields.String(required=True, attribute="claims.hash")
    issued_at = ma.fields.DateTime(required=True, attribute="claims.issued_at")
    key_id = ma.fields.String(required=True, attribute="claims.key_id")
    matches = ma.fields.Boolean(
        required=True,
        allow_none=True,
        metadata={
            "description": "Whether today's chain extends the checkpoint; null when the "
            "checkpointed event was pruned and cannot be confirmed"
        },
    )
    reason = ma.fields.Enum(
        CheckpointReason,
        by_value=True,
        required=True,
        metadata={"description": _CHECKPOINT_REASONS},
    )
    first_broken = ma.fields.Nested(BrokenLinkSchema, required=True, allow_none=True)


class OrganisationChainReportSchema(ChainReportSchema):
    pruned = ma.fields.Nested(
        PrunedEventsSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Events pruned past the retention; null when none were"},
    )
    head = ma.fields.Nested(
        ChainHeadSchema,
        required=True,
        metadata={"description": "The head the chain was verified up to"},
    )
    waiting = ma.fields.Nested(
        WaitingEventsSchema,
        required=True,
        metadata={
            "description": "Events not yet sealed into the chain (normally none, or for "
            "a moment): they are verified once sealed"
        },
    )
    checkpoint = ma.fields.Nested(
        CheckpointCheckSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The checkpoint given as `?checkpoint=`; null without one"},
    )


class FacitoAuditEventSchema(AuditEventSchema):
    """An event of Facito's own chain (hashed with the organisation id "facito")."""

    class Meta(OutputSchema.Meta):
        exclude = ("organisation_id",)


FacitoAuditEventPageSchema = page_schema(FacitoAuditEventSchema, "FacitoAuditEventPageSchema")


class FacitoAuditEventQueryArgsSchema(PageArgsSchema):
    action = ma.fields.String(
        load_default=None,
        validate=[ma.validate.Length(min=1, max=100), ma.validate.Regexp(r"^[a-z0-9:._-]+$")],
        metadata={"description": "Only events of this action, e.g. `facito:statement:publish`"},
    )
