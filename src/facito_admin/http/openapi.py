"""The OpenAPI document: flask-smorest's Api, with what every operation shares written once."""

from __future__ import annotations

import http
from typing import Any

import marshmallow as ma
from apispec import BasePlugin
from flask import Response
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from ..common.schemas import InputRulesPlugin, OutputSchema
from .contract import HEADER_DOCS, RATE_LIMIT_HEADERS, ContractPlugin
from .problems import PROBLEM_CONTENT_TYPE, ProblemSchema, http_exception_to_problem


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


def _nullable_enum_without_type_list(
    _converter: Any, _field: ma.fields.Field[Any], ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    """A nullable choice is documented by its enum alone (`enum: [..., null]`).

    apispec also writes `type: [string, null]` beside it; the enum already says all that, and a
    generated client (openapi-python-client) makes three copies of one enum class from the pair.
    Runs after apispec's own attribute functions, which add the type list last (field2nullable).
    """
    if None in (ret.get("enum") or ()) and isinstance(ret.get("type"), list):
        del ret["type"]
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


def _error_headers(status: int) -> dict[str, str]:
    """The headers of an error answer, as names of header components."""
    names = ["X-Request-ID", *RATE_LIMIT_HEADERS]
    if status in (401, 403):
        names.append("WWW-Authenticate")
    if status in (429, 503):
        names.append("Retry-After")
    return {name: name for name in names}


class FacitoApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest's Api with problem+json errors, documented as such in the OpenAPI file."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, **kwargs: Any) -> None:
        self.contract = ContractPlugin(self._app)
        kwargs["extra_plugins"] = [
            *kwargs.get("extra_plugins", ()),
            self.contract,
            ProblemResponsesPlugin(),
            InputRulesPlugin(),
        ]
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(_document_utc_timestamps)
        self.ma_plugin.converter.add_attribute_function(_nullable_enum_without_type_list)
        # Registered up front so that the plugins' $refs always resolve.
        if "Problem" not in self.spec.components.schemas:
            self.spec.components.schema("Problem", schema=ProblemSchema)
        for name, header in HEADER_DOCS.items():
            self.spec.components.header(name, header)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
                response["headers"] = _error_headers(status)
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {
            "description": "Problem details (RFC 9457)",
            "schema": self.ERROR_SCHEMA,
            "headers": _error_headers(500),
        }
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def finish_document(self) -> None:
        """What needs every operation registered first: the links between them."""
        self.contract.link_creates()

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_exception_to_problem(error)
