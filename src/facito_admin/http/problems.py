"""Every error leaves as its protocol's error message; internals are logged, never returned.

Domain errors (errors.py), HTTP errors (404, 405, 413, 415, 429), database failures and
crashes become a :class:`~.protocols.Problem` here, once; the request's protocol renders it
(REST: RFC 9457 problem+json, below; SCIM: its Error message). 401 and 403 answers carry the
RFC 6750 challenge of the protocol's realm.
"""

from __future__ import annotations

import http
import re
from typing import Any

import marshmallow as ma
import structlog
from flask import Flask, Response, json, request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ..db.integrity import unique_field
from ..errors import AlreadyExists, DomainError, PreconditionFailed, ValidationFailed
from .context import request_id
from .protocols import Problem, current_protocol

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = structlog.get_logger("facito_admin.errors")
# RFC 6750 §3: error_description is a quoted-string of these characters only.
_CHALLENGE_TEXT = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(metadata={"description": "Dotted path of the field"})
    location = ma.fields.String(metadata={"description": "json, query, headers or path"})
    message = ma.fields.String()
    # Errors of a batch's items (e.g. user_data's ingestion) say which item and why, stably.
    index = ma.fields.Integer(metadata={"description": "In a batch: the position of the item"})
    code = ma.fields.String(
        metadata={"description": "In a batch: kebab-case name of the broken rule"}
    )


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with a stable `code` and the request id."""

    class Meta:
        # RFC 9457 section 3.2: problems may carry extension members (`missing_permissions`,
        # `reason`, ...); documented as additionalProperties: true.
        unknown = ma.INCLUDE

    type = ma.fields.String(metadata={"description": "URI naming the problem type"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    code = ma.fields.String(metadata={"description": "kebab-case name clients can switch on"})
    request_id = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


def _code_for(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
    except ValueError:
        return "error"


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    status: int,
    *,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """The error answer of the current request, in its protocol's shape."""
    problem = Problem(
        status=status,
        code=code or _code_for(status),
        title=title or _phrase(status),
        detail=detail or title or _phrase(status),
        errors=errors,
        headers=dict(headers or {}),
        extra=dict(extra or {}),
    )
    protocol = current_protocol()
    response = protocol.render_problem(problem)
    challenge = _challenge(problem)
    if challenge is not None:
        response.headers["WWW-Authenticate"] = f'Bearer realm="{protocol.realm}"' + challenge
    return response


def _challenge(problem: Problem) -> str | None:
    """The RFC 6750 parameters of a 401 or 403, after the realm; None for other answers."""
    if problem.status == 401:
        # No error code when the request carried no token (RFC 6750 §3.1).
        if not request.headers.get("Authorization", "").strip():
            return ""
        description = _CHALLENGE_TEXT.sub(" ", problem.detail)[:200]
        return f', error="invalid_token", error_description="{description}"'
    if problem.status == 403 and "missing_permissions" in problem.extra:
        return ', error="insufficient_scope"'
    return None


def problem_json(problem: Problem) -> Response:
    """REST's rendering: RFC 9457 problem details with `code` and `request_id`."""
    body: dict[str, Any] = {
        "type": f"https://docs.facito.nl/problems/{problem.code}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.path,
        "code": problem.code,
        "request_id": request_id(),
    }
    if problem.errors:
        body["errors"] = problem.errors
    for key, value in problem.extra.items():
        body.setdefault(key, value)
    response = Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def flatten_field_errors(messages: Any) -> list[dict[str, str]]:
    """webargs/marshmallow nested messages → a flat list of {field, location, message}.

    marshmallow names errors of the whole object `_schema`; the API names the body `_body`.
    """
    flat: list[dict[str, str]] = []

    def name(path: list[str]) -> str:
        shown = [part for part in path if part != ma.exceptions.SCHEMA]
        return ".".join(shown) or "_body"

    def walk(node: Any, path: list[str], location: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)], location)
        elif isinstance(node, list) and all(isinstance(m, str) for m in node):
            for message in node:
                flat.append({"field": name(path), "location": location, "message": message})
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, [*path, str(index)], location)
        else:
            flat.append({"field": name(path), "location": location, "message": str(node)})

    if isinstance(messages, dict):
        for location, fields in messages.items():
            walk(fields, [], str(location))
    return flat


def http_exception_to_problem(error: HTTPException) -> Response:
    """A werkzeug/webargs HTTP error (404, 405, 413, 422 of a schema, …) as a problem."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers: dict[str, str] = dict(data.get("headers") or {})
    # werkzeug carries Allow on 405 in the exception's own headers; smorest's handler dropped it.
    if status == 405:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    errors = flatten_field_errors(data.get("messages")) if "messages" in data else None
    detail = data.get("message") or (error.description if status < 500 else None)
    if status == 422 and errors:
        detail = "the request has invalid fields: " + ", ".join(
            sorted({e["field"] for e in errors})
        )
        return problem_response(
            422,
            code="validation-failed",
            title="Validation failed",
            detail=detail,
            errors=errors,
            headers=headers,
        )
    if errors:
        detail = "; ".join(e["message"] for e in errors)
    return problem_response(status, detail=detail, errors=errors, headers=headers)


def domain_problem(error: DomainError) -> Response:
    """A domain error (errors.py) as a problem of its status and code."""
    errors = None
    if isinstance(error, ValidationFailed):
        errors = [
            {"field": f, "location": error.location, "message": m}
            for f, messages in error.errors.items()
            for m in messages
        ]
    return problem_response(
        error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        errors=errors,
        extra=error.extra,
    )


def register_problem_handlers(app: Flask) -> None:
    """Every exception leaves as a problem; internals are logged, never returned."""

    app.register_error_handler(DomainError, domain_problem)

    @app.errorhandler(StaleDataError)
    def _stale(_error: StaleDataError) -> Response:
        return domain_problem(
            PreconditionFailed("someone changed the resource since you read it; read it again")
        )

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> Response:
        log.warning("integrity_error", error=str(error.orig)[:300])
        # A write that lost a race to a concurrent one passed the service's own uniqueness
        # check: the loser gets the answer that check would have given it, naming the field.
        found = unique_field(error)
        if found is not None:
            resource, field = found
            return domain_problem(
                AlreadyExists(
                    f"another {resource} of the organisation has this {field}",
                    extra={"field": field},
                )
            )
        return problem_response(
            409, code="conflict", title="Conflict", detail="the change conflicts with existing data"
        )

    @app.errorhandler(OperationalError)
    def _operational(error: OperationalError) -> Response:
        log.error("database_unavailable", error=str(error.orig)[:300])
        return problem_response(
            503,
            code="database-unavailable",
            title="Service unavailable",
            detail="the database did not answer; retry later",
            headers={"Retry-After": "5"},
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return http_exception_to_problem(error)
        log.exception("unhandled_exception", exc_info=error)
        return problem_response(
            500,
            code="internal-error",
            title="Internal server error",
            detail="something went wrong on our side; quote the request id",
        )
