"""openapi/openapi.json states what every input field enforces: the document is walked beside
the schemas each documented operation loads, so a new field is checked the day it exists."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask

from facito_admin.common.schemas import (
    EARLIEST,
    LATEST,
    BirthDate,
    Day,
    Instant,
    PatchSchema,
    QueryBoolean,
    QueryInteger,
    StrictBoolean,
    StrictInteger,
    Text,
)

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
# Validators apispec turns into keywords (Email: the field's `format: email`); any other one
# must be explained by the field's rule.
READ_BY_APISPEC = (
    ma.validate.Length,
    ma.validate.Range,
    ma.validate.Regexp,
    ma.validate.OneOf,
    ma.validate.Email,
)


@dataclass(frozen=True)
class Input:
    where: str
    location: str
    field: ma.fields.Field[Any]
    documented: dict[str, Any]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def _document_path(rule: str) -> str:
    # /v1/organisations/<uuid:org_id> -> /v1/organisations/{org_id}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def _loaded_schemas(app: Flask) -> Iterator[tuple[str, str, str, ma.Schema]]:
    """(path, method, location, schema) of every argument schema a documented view loads."""
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            view = getattr(view_class, method.lower(), None)
            arguments = getattr(view, "_apidoc", {}).get("arguments", {})
            for argument in arguments.get("parameters", []):
                schema = argument["schema"]
                loaded = schema() if isinstance(schema, type) else schema
                yield _document_path(rule.rule), method.lower(), argument["in"], loaded


def _component(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    candidates = [node, node.get("items", {}), *node.get("anyOf", [])]
    ref = next(n["$ref"] for n in candidates if "$ref" in n)
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _body_inputs(
    document: dict[str, Any], schema: ma.Schema, component: dict[str, Any], where: str
) -> Iterator[Input]:
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        documented = component["properties"][key]
        yield Input(f"{where}.{key}", "json", field, documented)
        inner = field.inner if isinstance(field, ma.fields.List) else field
        if isinstance(inner, ma.fields.Nested):
            nested = _component(document, documented)
            yield from _body_inputs(document, inner.schema, nested, f"{where}.{key}")


def _inputs(document: dict[str, Any], app: Flask) -> list[Input]:
    found: list[Input] = []
    for path, method, location, schema in _loaded_schemas(app):
        operation = document["paths"][path][method]
        where = f"{method.upper()} {path}"
        if location == "json":
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            found += _body_inputs(document, schema, _component(document, body), where)
            continue
        parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == location}
        for name, field in schema.load_fields.items():
            parameter = parameters[field.data_key or name]
            documented = parameter["schema"] | {"description": parameter.get("description", "")}
            found.append(Input(f"{where} ?{parameter['name']}", location, field, documented))
    return found


@pytest.fixture(scope="module")
def inputs(document: dict[str, Any], app: Flask) -> list[Input]:
    found = _inputs(document, app)
    assert {i.location for i in found} == {"json", "query"}
    return found


def _types(documented: dict[str, Any]) -> set[str]:
    declared = documented.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def test_every_text_input_is_documented_as_not_blank(inputs: list[Input]):
    texts = [i for i in inputs if isinstance(i.field, Text)]
    assert texts
    assert [i.where for i in texts if i.documented.get("minLength", 0) < 1] == []
    assert [i.where for i in texts if "not blank" not in i.documented.get("description", "")] == []


def test_every_boolean_and_integer_input_is_strict_and_typed_so(inputs: list[Input]):
    wrong = []
    for i in inputs:
        strict_boolean = QueryBoolean if i.location == "query" else StrictBoolean
        strict_integer = QueryInteger if i.location == "query" else StrictInteger
        types = _types(i.documented)
        booleans = isinstance(i.field, ma.fields.Boolean) or "boolean" in types
        numbers = isinstance(i.field, ma.fields.Number) or types & {"integer", "number"}
        if booleans and not (isinstance(i.field, strict_boolean) and "boolean" in types):
            wrong.append(f"{i.where}: {type(i.field).__name__}, {i.documented}")
        if numbers and not (isinstance(i.field, strict_integer) and "integer" in types):
            wrong.append(f"{i.where}: {type(i.field).__name__}, {i.documented}")
    assert wrong == []


def test_every_instant_and_day_input_carries_the_one_documented_bound(inputs: list[Input]):
    instants = [i for i in inputs if isinstance(i.field, ma.fields.DateTime)]
    dates = [i for i in inputs if isinstance(i.field, ma.fields.Date)]
    days = [i for i in dates if not isinstance(i.field, BirthDate)]
    assert instants
    assert days
    assert [i.where for i in instants if not isinstance(i.field, Instant)] == []
    assert [i.where for i in days if not isinstance(i.field, Day)] == []
    bounds = {(i.documented["x-minimum"], i.documented["x-maximum"]) for i in instants}
    assert bounds == {(EARLIEST.isoformat(), LATEST.isoformat())}
    day_bounds = {(i.documented["x-minimum"], i.documented["x-maximum"]) for i in days}
    assert day_bounds == {(EARLIEST.date().isoformat(), LATEST.date().isoformat())}


def test_every_validator_of_an_input_is_a_keyword_or_explained_by_its_rule(inputs: list[Input]):
    unexplained, unread = [], []
    for i in inputs:
        validators = list(i.field.validators)
        if any(not isinstance(v, READ_BY_APISPEC) for v in validators) and not getattr(
            i.field, "rule", None
        ):
            unexplained.append(i.where)
        for validator in validators:
            keyword = {
                ma.validate.Regexp: "pattern",
                ma.validate.OneOf: "enum",
            }.get(type(validator))
            if keyword and keyword not in i.documented:
                unread.append(f"{i.where}: {keyword}")
    assert unexplained == []
    assert unread == []


def test_a_birth_date_documents_its_own_rule(inputs: list[Input]):
    birth_dates = [i for i in inputs if isinstance(i.field, BirthDate)]
    assert birth_dates
    for i in birth_dates:
        assert i.documented["x-minimum"] == "1900-01-01"
        assert "not in the future" in i.documented["description"]


def test_patch_bodies_that_must_change_something_say_so(document: dict[str, Any], app: Flask):
    patches = [
        path for path, _, _, schema in _loaded_schemas(app) if isinstance(schema, PatchSchema)
    ]
    assert patches
    for path in patches:
        body = document["paths"][path]["patch"]["requestBody"]["content"]["application/json"]
        assert _component(document, body["schema"])["minProperties"] == 1, path


def test_a_domain_is_documented_by_the_pattern_the_server_checks(document: dict[str, Any]):
    domain = document["components"]["schemas"]["EmailDomainCreate"]["properties"]["domain"]
    pattern = re.compile(domain["pattern"])
    for accepted in ("example.com", "Mail.Example.COM.", "bücher.de", "xn--bcher-kva.de"):
        assert pattern.search(accepted), accepted
    for refused in ("com", "-example.com", "example-.com", "example..com", "exa mple.com"):
        assert not pattern.search(refused), refused
    assert domain["maxLength"] == 253


def test_a_webhook_url_is_documented_as_an_https_uri(document: dict[str, Any]):
    for name in ("WebhookEndpointCreate", "WebhookEndpointUpdate"):
        url = document["components"]["schemas"][name]["properties"]["url"]
        assert url["format"] == "uri"
        assert re.search(url["pattern"], "https://hooks.example.com/in")
        assert re.search(url["pattern"], "HTTPS://hooks.example.com/in")
        assert not re.search(url["pattern"], "http://hooks.example.com/in")


def test_the_language_tags_of_statement_texts_are_documented(document: dict[str, Any]):
    for name in ("StatementCreate", "StatementUpdate"):
        bodies = document["components"]["schemas"][name]["properties"]["bodies"]
        pattern = re.compile(bodies["propertyNames"]["pattern"])
        assert pattern.search("en-GB")
        assert not pattern.search("English")
