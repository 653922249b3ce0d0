"""Response shapes of jobs and the filters of their list."""

from __future__ import annotations

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import OutputSchema
from .models import JobState


class JobSchema(OutputSchema):
    """A background job: poll it for progress; `result` and `error` tell how it ended."""

    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "What the job does"})
    state = ma.fields.Enum(JobState, required=True)
    progress_done = ma.fields.Integer(required=True)
    progress_total = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null while unknown"}
    )
    attempts = ma.fields.Integer(
        required=True, metadata={"description": "Runs started so far (retries and resumes)"}
    )
    max_attempts = ma.fields.Integer(required=True)
    cancel_requested = ma.fields.Boolean(required=True)
    params = ma.fields.Dict(required=True)
    result = ma.fields.Dict(
        required=True, allow_none=True, metadata={"description": "Summary of a finished run"}
    )
    error = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Why the last attempt failed (kept while a retry waits)"},
    )
    created_by = ma.fields.String(required=True, metadata={"description": "Who asked for it"})
    created_by_oid = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    started_at = ma.fields.DateTime(required=True, allow_none=True)
    heartbeat_at = ma.fields.DateTime(
        required=True, allow_none=True, metadata={"description": "Last sign of its worker"}
    )
    finished_at = ma.fields.DateTime(required=True, allow_none=True)


class JobQueryArgsSchema(PageArgsSchema):
    kind = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=64))
    state = ma.fields.Enum(JobState, load_default=None)


JobPageSchema = page_schema(JobSchema, "JobPageSchema")
