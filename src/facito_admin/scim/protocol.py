"""SCIM as a protocol of the edge: its tokens, its permission per collection, its errors."""

from __future__ import annotations

from flask import request

from ..auth.permissions import Permission
from ..http import SAFE_METHODS, Protocol
from .auth import scim_principal
from .discovery import MAX_RESULTS
from .errors import render_scim_problem
from .filters import MAX_FILTER_TERMS
from .messages import MAX_PATCH_OPERATIONS

PREFIX = "/scim/v2"

# The OpenAPI document's description of SCIM, whose own contract is RFC 7643/7644 (app.py).
DESCRIPTION = f"""SCIM 2.0 service provider (RFC 7643, RFC 7644) at `{PREFIX}`, for Entra ID
provisioning and scripts. Its operations follow the RFCs rather than this document: discovery
at `{PREFIX}/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (only the stored
attributes), `Users` (core and enterprise extension: a user is an account with source `scim`)
and `Groups`, each with GET (filter, `startIndex`, `count` up to {MAX_RESULTS}), POST, PUT,
PATCH, DELETE and `/.search`.

Authenticate with one of the organisation's SCIM tokens (`createScimToken`) as
`Authorization: Bearer <token>`. Bodies and answers are `application/scim+json`; errors are
SCIM `Error` messages with the RFC's `scimType`. `meta.version` is the resource's ETag, the same
strong tag the REST API answers: If-Match is honoured (412 when stale) and If-None-Match gives
304. A filter has at most {MAX_FILTER_TERMS} terms (400 `invalidFilter` beyond), a PATCH at most
{MAX_PATCH_OPERATIONS} operations (413 `tooMany` beyond)."""

# What each collection needs of the token: (to read or search, to change).
_PERMISSIONS = {
    "Users": (Permission.AccountsRead, Permission.AccountsWrite),
    "Groups": (Permission.GroupsRead, Permission.GroupsWrite),
}


def required_permissions() -> tuple[Permission, ...]:
    """Every SCIM endpoint takes the organisation's token; Users and Groups need their right."""
    collection = request.path.removeprefix(PREFIX).strip("/").split("/")[0]
    needs = _PERMISSIONS.get(collection)
    if needs is None:
        return ()  # discovery: any valid token of the organisation
    reading = request.method in SAFE_METHODS or request.path.endswith("/.search")
    return (needs[0] if reading else needs[1],)


SCIM = Protocol(
    name="scim",
    prefix=PREFIX,
    realm="facito-admin-scim",
    authenticate=scim_principal,
    required_permissions=required_permissions,
    # A SCIM token belongs to one organisation: every request acts in it.
    organisation_of=lambda principal: principal.organisation_id,
    render_problem=render_scim_problem,
    documented=False,
)
