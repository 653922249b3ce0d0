"""SCIM error bodies (RFC 7644 §3.12): every error on /scim/v2 leaves in this shape.

SCIM's error renderer (scim/protocol.py): the edge hands every error of a /scim/v2 request
here, so domain errors of the services, refused tokens, 404/405, invalid JSON and even the
audit safeguard's 500 reach a SCIM client as `application/scim+json` with the `Error` schema,
never as problem+json.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from ..errors import DomainError
from ..http import Problem

SCIM_CONTENT_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

# Our problem codes that have a scimType of RFC 7644 Table 9.
_SCIM_TYPES = {
    "already-exists": "uniqueness",
    # A unique index refused a write that raced another (http/problems.py: IntegrityError).
    "conflict": "uniqueness",
    "invalid-json": "invalidSyntax",
    "validation-failed": "invalidValue",
}


class ScimProblem(DomainError):
    """An error a SCIM rule raises, with the scimType RFC 7644 defines for it (if any)."""

    code, title = "scim-error", "SCIM request refused"

    def __init__(self, detail: str, *, status: int = 400, scim_type: str | None = None) -> None:
        super().__init__(detail, extra={"scim_type": scim_type} if scim_type else None)
        self.status = status  # type: ignore[misc]  # per instance: SCIM errors vary in status


def scim_error_response(
    status: int,
    *,
    detail: str,
    code: str | None = None,
    scim_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A SCIM Error message; `status` is a string there, as RFC 7644 §3.12 writes it."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    scim_type = scim_type or _SCIM_TYPES.get(code or "")
    if scim_type and status in (400, 409, 413):
        body["scimType"] = scim_type
    response = Response(json.dumps(body), status=status, mimetype=SCIM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_scim_problem(problem: Problem) -> Response:
    """An edge problem as a SCIM Error (field errors folded into `detail`)."""
    text = problem.detail
    # RFC 7644 §3.12 has no 422: a value that breaks a rule is 400 invalidValue there.
    status = 400 if problem.status == 422 else problem.status
    if problem.errors:
        text += ": " + "; ".join(f"{e['field']}: {e['message']}" for e in problem.errors)
    return scim_error_response(
        status,
        detail=text,
        code=problem.code,
        scim_type=problem.extra.get("scim_type"),
        headers=problem.headers,
    )
