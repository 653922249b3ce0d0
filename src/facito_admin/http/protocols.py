"""The protocols the edge serves, each registered with what makes it different.

REST (`/v1`, problem+json, Entra tokens, permissions declared with ``@require``) and SCIM
(`/scim/v2`, SCIM errors, the organisation's SCIM tokens, permissions per collection) share
the edge: request ids, rate limits, authorisation, the transaction, idempotency, conditional
requests. What differs is registered here by the composition root (app.py), so the edge
imports no domain. A request belongs to the protocol with the longest matching path prefix.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from flask import Flask, Response, current_app, request

from ..auth.context import Principal
from ..auth.permissions import Permission

PROTOCOLS_EXTENSION = "facito_protocols"


@dataclass(frozen=True)
class Problem:
    """An error answer before it takes a protocol's shape (RFC 9457 fields, plus headers)."""

    status: int
    code: str
    title: str
    detail: str
    errors: list[dict[str, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Extension members (RFC 9457 §3.2): `missing_permissions`, `reason`, `scim_type`, …
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Protocol:
    """One family of routes: who may call it, what a request needs, how its errors look."""

    name: str
    # Path prefix of its routes ("/" for the rest).
    prefix: str
    # The `realm` of its WWW-Authenticate challenges (RFC 6750 §3).
    realm: str
    # The caller behind a bearer token (None: none sent); raises Unauthenticated.
    authenticate: Callable[[str | None], Principal]
    # The permissions the current request needs; None: a public route (no token needed).
    required_permissions: Callable[[], tuple[Permission, ...] | None]
    # The organisation a caller acts in when the path names none (SCIM: its token's).
    organisation_of: Callable[[Principal], uuid.UUID | None]
    # The response of an error.
    render_problem: Callable[[Problem], Response]
    # Whether its operations are described in the OpenAPI document (SCIM has RFC 7644).
    documented: bool = True


def register_protocol(app: Flask, protocol: Protocol) -> None:
    """Serve ``protocol``'s routes (under its prefix) with its authenticator and errors."""
    protocols: list[Protocol] = app.extensions.setdefault(PROTOCOLS_EXTENSION, [])
    if any(p.prefix == protocol.prefix for p in protocols):
        raise ValueError(f"a protocol already serves {protocol.prefix!r}")
    protocols.append(protocol)
    # Longest prefix first: /scim/v2 before /.
    protocols.sort(key=lambda p: len(p.prefix), reverse=True)


def protocol_for(path: str) -> Protocol:
    """The protocol of a request path."""
    protocols = cast(list[Protocol], current_app.extensions.get(PROTOCOLS_EXTENSION, []))
    for protocol in protocols:
        if path == protocol.prefix or path.startswith(protocol.prefix.rstrip("/") + "/"):
            return protocol
    raise LookupError(f"no protocol serves {path!r}: register one for '/' (app.py)")


def current_protocol() -> Protocol:
    """The protocol of the current request."""
    return protocol_for(request.path)
