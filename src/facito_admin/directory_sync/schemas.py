"""Request and response shapes of directory syncs."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..common.pagination import PageArgsSchema
from ..common.schemas import OutputSchema, PatchSchema, StrictBoolean, StrictInteger, StrictSchema
from ..jobs.models import JobState

MODES = ("delta", "full")


class DirectorySyncCreateSchema(StrictSchema):
    federation_id = ma.fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "Needed only when the organisation has several active ones"},
    )
    mode = ma.fields.String(
        load_default="delta",
        validate=ma.validate.OneOf(MODES),
        metadata={
            "description": "`delta` (default): the changes since the last sync, or everything "
            "when there was none; `full`: list every user and remove the accounts of users "
            "no longer in the directory"
        },
    )


class DirectorySyncQueryArgsSchema(PageArgsSchema):
    state = ma.fields.Enum(JobState, load_default=None)


class DirectorySyncStateSchema(OutputSchema):
    """Where a federation's sync stands, and its schedule."""

    federation_id = ma.fields.UUID(required=True)
    schedule_enabled = ma.fields.Boolean(
        required=True, metadata={"description": "Delta syncs run every `interval_minutes`"}
    )
    interval_minutes = ma.fields.Integer(required=True)
    next_sync_at = ma.fields.DateTime(
        required=True, allow_none=True, metadata={"description": "null: at the next round"}
    )
    has_delta_link = ma.fields.Method(
        "_has_delta_link",
        required=True,
        metadata={
            "type": "boolean",
            "description": "Whether the next delta sync reads only changes (else it lists all)",
        },
    )
    delta_link_at = ma.fields.DateTime(required=True, allow_none=True)
    last_full_sync_at = ma.fields.DateTime(required=True, allow_none=True)
    last_delta_sync_at = ma.fields.DateTime(required=True, allow_none=True)
    last_job_id = ma.fields.UUID(required=True, allow_none=True)
    last_result = ma.fields.Dict(
        required=True, allow_none=True, metadata={"description": "Counts of the last run"}
    )

    def _has_delta_link(self, state: Any) -> bool:
        return bool(state.delta_link)


class DirectorySyncScheduleSchema(PatchSchema):
    """Only the fields sent change."""

    enabled = StrictBoolean()
    interval_minutes = StrictInteger(
        validate=ma.validate.Range(min=15, max=7 * 24 * 60),
        metadata={"description": "15 minutes to a week"},
    )
