"""Conditional requests at the edge (RFC 9110 §13): ETags out, If-Match in, 304 for If-None-Match.

A resource's ETag is derived from its id and row version (common/conditional.py). Views answer
it with :func:`with_etag`; a GET whose If-None-Match names the answer's ETag gets 304 with no
body (:func:`answer_not_modified`, for every route of every protocol). Changes take the
request's If-Match parsed once into an IfMatch, which the service checks against the row it
changes: REST requires one (428 without), SCIM passes what the client sent (or any).

flask-smorest's own ETag support (``@blp.etag``, ``check_etag``) hashes the serialised
response: it needs the full representation to check a precondition, gives the REST and the
SCIM form of one account different tags, and checks outside the transaction that writes. A tag
from the row version is free to compute, is the one the database's version check enforces at
the write (a concurrent change fails with 412, db/base.py: Versioned), and serves both
protocols, so we use it rather than smorest's.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol, TypeVar

from flask import Response, g, request

from ..common.conditional import ANY, ENTITY_TAGS, IfMatch, etag_of, matches_weakly
from ..errors import PreconditionRequired

T = TypeVar("T", bound="VersionedResource")

# OpenAPI: the If-Match parameter of a change, and the ETag header of an answer.
IF_MATCH_DOC: dict[str, Any] = {
    "parameters": [
        {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": "The resource's ETag as last read (428 without it, 412 when stale), "
            "or `*`; several tags may be listed, separated by commas",
            "schema": {"type": "string", "pattern": ENTITY_TAGS},
        }
    ]
}
IF_MATCH_OPTIONAL_DOC: dict[str, Any] = {
    "parameters": [
        {
            **IF_MATCH_DOC["parameters"][0],
            "required": False,
            "description": "The resource's ETag as last read (412 when stale); optional here",
        }
    ]
}
ETAG_DOC: dict[str, Any] = {
    "ETag": {
        "description": "Strong entity-tag of this version of the resource",
        "schema": {"type": "string"},
    }
}


class VersionedResource(Protocol):
    id: uuid.UUID
    version: int


def etag_header(resource: VersionedResource) -> dict[str, str]:
    """The ETag header of ``resource``."""
    return {"ETag": etag_of(resource.id, resource.version)}


def with_etag(
    resource: T, status: int = 200, headers: dict[str, str] | None = None
) -> tuple[T, int, dict[str, str]]:
    """A view's answer of ``resource`` with its ETag (and any other headers)."""
    return resource, status, etag_header(resource) | (headers or {})


def _request_if_match() -> IfMatch | None:
    if "if_match" not in g:
        value = request.headers.get("If-Match")
        g.if_match = IfMatch.parse(value) if value and value.strip() else None
    return g.get("if_match")  # type: ignore[no-any-return]


def if_match() -> IfMatch:
    """The request's If-Match; 428 when it sent none (REST never changes blind)."""
    found = _request_if_match()
    if found is None:
        raise PreconditionRequired("send the resource's ETag in If-Match")
    return found


def optional_if_match() -> IfMatch:
    """The request's If-Match, or any version when it sent none (SCIM, RFC 7644 §3.14)."""
    return _request_if_match() or ANY


def answer_not_modified(response: Response) -> Response:
    """after_request: a GET whose If-None-Match names the answer's ETag gets 304, no body."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    etag = response.headers.get("ETag")
    if_none_match = request.headers.get("If-None-Match")
    if not etag or not if_none_match or not matches_weakly(if_none_match, etag):
        return response
    # RFC 9110 §15.4.5: the headers a 200 would have carried that describe the resource.
    kept = {
        name: response.headers[name]
        for name in ("ETag", "Cache-Control", "Vary", "Content-Location", "Expires")
        if name in response.headers
    }
    not_modified = Response(status=304, headers=kept)
    not_modified.headers.remove("Content-Type")
    return not_modified
