"""RFC 9457 problem details for every error the app can produce, and the Api that documents them."""

from __future__ import annotations

import http
from typing import Any

import marshmallow as ma
import structlog
from apispec import BasePlugin
from flask import Flask, Response, json, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from .accounts.models import UNIQUE_FIELDS as ACCOUNT_UNIQUE_FIELDS
from .common.schemas import OutputSchema
from .db.integrity import violated_unique
from .errors import AlreadyExists, DomainError, PreconditionFailed, ValidationFailed

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = structlog.get_logger("facito_admin.errors")


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(metadata={"description": "Dotted path of the field"})
    location = ma.fields.String(metadata={"description": "json, query, headers or path"})
    message = ma.fields.String()


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
    """A problem+json response carrying the request id (a SCIM Error on /scim/v2)."""
    from .web import SCIM_PREFIX, request_id

    code = code or _code_for(status)
    if request.path.startswith(SCIM_PREFIX):
        return _scim_error(
            status,
            code=code,
            title=title,
            detail=detail,
            errors=errors,
            headers=headers,
            extra=extra,
        )
    body: dict[str, Any] = {
        "type": f"https://docs.facito.nl/problems/{code}",
        "title": title or http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or (title or http.HTTPStatus(status).phrase),
        "instance": request.path,
        "code": code,
        "request_id": request_id(),
    }
    if errors:
        body["errors"] = errors
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="facito-admin"')
    return response


def _scim_error(
    status: int,
    *,
    code: str,
    title: str | None,
    detail: str | None,
    errors: list[dict[str, str]] | None,
    headers: dict[str, str] | None,
    extra: dict[str, Any] | None,
) -> Response:
    from .scim.errors import scim_error_response

    text = detail or title or http.HTTPStatus(status).phrase
    # RFC 7644 §3.12 has no 422: a value that breaks a rule is 400 invalidValue there.
    if status == 422:
        status = 400
    if errors:
        text += ": " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return scim_error_response(
        status,
        detail=text,
        code=code,
        scim_type=(extra or {}).get("scim_type"),
        headers=headers,
    )


def flatten_field_errors(messages: Any) -> list[dict[str, str]]:
    """webargs/marshmallow nested messages → a flat list of {field, location, message}."""
    flat: list[dict[str, str]] = []

    def walk(node: Any, path: list[str], location: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)], location)
        elif isinstance(node, list) and all(isinstance(m, str) for m in node):
            for message in node:
                flat.append(
                    {"field": ".".join(path) or "_", "location": location, "message": message}
                )
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, [*path, str(index)], location)
        else:
            flat.append(
                {"field": ".".join(path) or "_", "location": location, "message": str(node)}
            )

    if isinstance(messages, dict):
        for location, fields in messages.items():
            walk(fields, [], str(location))
    return flat


def _document_utc_timestamps(
    _converter: Any, field: ma.fields.Field[Any], ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    """OutputSchema's timestamps are RFC 3339 date-times (with a `Z`), written by a strftime
    pattern; apispec documents any such pattern as `format: null, pattern: null`, which is not
    a valid schema. Say what they are."""
    if isinstance(field, ma.fields.DateTime) and field.format == OutputSchema.Meta.datetimeformat:
        ret.pop("pattern", None)
        ret["format"] = "date-time"
    return {}


class ProblemResponsesPlugin(BasePlugin):
    """Error responses documented without a body (`alt_response(409, description=…)`) get the
    problem+json body every error really has, so views need not repeat it."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for operation in (operations or {}).values():
            for status, response in operation.get("responses", {}).items():
                if (
                    str(status).isdigit()
                    and int(status) >= 400
                    and isinstance(response, dict)
                    and "content" not in response
                ):
                    response["content"] = {
                        PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }


class FacitoApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest's Api with problem+json errors, documented as such in the OpenAPI file."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, **kwargs: Any) -> None:
        kwargs["extra_plugins"] = [*kwargs.get("extra_plugins", ()), ProblemResponsesPlugin()]
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(_document_utc_timestamps)
        # Registered up front so that the plugin's $ref always resolves.
        if "Problem" not in self.spec.components.schemas:
            self.spec.components.schema("Problem", schema=ProblemSchema)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Problem details (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_exception_to_problem(error)


def http_exception_to_problem(error: HTTPException) -> Response:
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


def register_problem_handlers(app: Flask) -> None:
    """Every exception leaves as problem+json; internals are logged, never returned."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response:
        errors = None
        if isinstance(error, ValidationFailed):
            errors = [
                {"field": f, "location": error.location, "message": m}
                for f, msgs in error.errors.items()
                for m in msgs
            ]
        return problem_response(
            error.status,
            code=error.code,
            title=error.title,
            detail=error.detail,
            errors=errors,
            extra=error.extra,
        )

    @app.errorhandler(StaleDataError)
    def _stale(_error: StaleDataError) -> Response:
        stale = PreconditionFailed("someone changed the resource since you read it; read it again")
        return problem_response(412, code=stale.code, title=stale.title, detail=stale.detail)

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> Response:
        log.warning("integrity_error", error=str(error.orig)[:300])
        # A write that lost a race to a concurrent one passed the service's own uniqueness
        # check: the loser gets the answer that check would have given it, naming the field.
        field = ACCOUNT_UNIQUE_FIELDS.get(violated_unique(error) or "")
        if field is not None:
            taken = AlreadyExists(
                f"another account of the organisation has this {field}", extra={"field": field}
            )
            return problem_response(
                taken.status,
                code=taken.code,
                title=taken.title,
                detail=taken.detail,
                extra=taken.extra,
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
