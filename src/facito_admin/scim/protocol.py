"""SCIM as a protocol of the edge: its tokens, its permission per collection, its errors."""

from __future__ import annotations

from flask import request

from ..auth.permissions import Permission
from ..http import SAFE_METHODS, Protocol
from .auth import scim_principal
from .errors import render_scim_problem

PREFIX = "/scim/v2"

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
