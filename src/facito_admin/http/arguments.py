"""Views' arguments: flask-smorest's Blueprint, reading the JSON body the edge already parsed.

webargs parses the raw body again for every `@blp.arguments` in the body; a batch of 1,000 data
records is 400 kB of JSON, parsed twice for nothing (bench/ingest.py). Domains take their
Blueprint from here (`from ..http import Blueprint`).
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Request, g
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from .transactions import PARSED_BODY

_UNPARSED = object()


def json_body() -> Any:
    """The request's JSON body, as the edge parsed it (None without a JSON body)."""
    parsed = g.get(PARSED_BODY, _UNPARSED)
    if parsed is _UNPARSED:
        return None
    return parsed


class ParsedBodyParser(FlaskParser):
    """webargs' Flask parser, taking the body from `g` when the edge parsed it."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        parsed = g.get(PARSED_BODY, _UNPARSED)
        if parsed is _UNPARSED:
            # Safe methods and empty bodies are not parsed by the edge.
            return super()._raw_load_json(req)
        return parsed


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]  # flask-smorest has no hints
    """flask-smorest's Blueprint whose arguments read the edge's parsed body."""

    ARGUMENTS_PARSER = ParsedBodyParser()
