"""What the service provider publishes about itself: configuration, resource types, schemas.

The schemas are RFC 7643's, cut down to the attributes an account or group stores
(DESIGN: publish only what is stored), so that clients such as scim2-tester and Entra's
attribute mapping know what comes back.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from scim2_models import Context, EnterpriseUser, Group, User

from ..accounts.fields import FIELDS
from .filters import ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA

MAX_RESULTS = 1000
DOCUMENTATION = "https://docs.facito.nl/scim"

# References: resources.py writes a `$ref` (the resource's location) beside the value.
_REFERENCES = frozenset({"manager"})


def _kept(*, enterprise: bool) -> dict[str, tuple[str, ...] | None]:
    """The attributes of a User schema that accounts store (accounts/fields.py), each with its
    kept sub-attributes (None: a simple attribute)."""
    kept: dict[str, tuple[str, ...] | None] = {}
    for field in FIELDS.values():
        if field.scim is None or field.scim.enterprise != enterprise:
            continue
        attribute, _, sub = field.scim.attribute.partition(".")
        kept[attribute] = (*(kept.get(attribute) or ()), sub) if sub else None
        if sub == "value" and attribute in _REFERENCES:
            kept[attribute] = (*(kept[attribute] or ()), "$ref")
    return kept


# attribute → kept sub-attributes (None: a simple attribute). Attributes every resource has
# (id, externalId, meta: RFC 7643 §3.1) are in no schema, so the stored ones are skipped.
_STORED: dict[str, dict[str, tuple[str, ...] | None]] = {
    USER_SCHEMA: _kept(enterprise=False),
    ENTERPRISE_SCHEMA: _kept(enterprise=True),
    GROUP_SCHEMA: {"displayName": None, "members": ("value", "$ref", "type")},
}
# What every account has (accounts/fields.py: not nullable) is published as required: the
# display name (derived from the name or userName when none is sent) and the status (active).
_ALWAYS_SET = {
    USER_SCHEMA: tuple(
        field.scim.attribute.partition(".")[0]
        for field in FIELDS.values()
        if field.scim and not field.scim.enterprise and not field.nullable
    )
}
_MODELS: dict[str, Any] = {
    USER_SCHEMA: User,
    ENTERPRISE_SCHEMA: EnterpriseUser,
    GROUP_SCHEMA: Group,
}


# The bounds on a PATCH's operations (messages.MAX_PATCH_OPERATIONS) and a filter's terms
# (filters.MAX_FILTER_TERMS) have no attribute in RFC 7643 §5, and clients validate this
# document strictly: scim2-models (scim2-tester, Python clients) refuses an extra `patch` or
# `filter` attribute and an extension schema alike. They are published in the README's SCIM
# section (tests/api/scim/test_scim_limits.py keeps it true) and named in the 413/400 that
# refuses a request over them.


def service_provider_config(base_url: str) -> dict[str, Any]:
    """RFC 7643 §5: PATCH, filters and ETags yes; bulk, sorting and password change no."""
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": DOCUMENTATION,
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "SCIM token",
                "description": "A per-organisation bearer token, created by an organisation "
                "administrator with POST /v1/organisations/{org_id}/scim-tokens",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url}/ServiceProviderConfig",
        },
    }


def resource_types(base_url: str) -> list[dict[str, Any]]:
    """The User (with the enterprise extension) and Group resource types."""
    return [
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "An account of the organisation",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": False}],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/User"},
        },
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A group of the organisation's accounts",
            "schema": GROUP_SCHEMA,
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/Group"},
        },
    ]


@cache
def _stored_schema(urn: str) -> dict[str, Any]:
    full = _MODELS[urn].to_schema().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    kept = _STORED[urn]
    attributes = []
    for found in full["attributes"]:
        if found["name"] not in kept:
            continue
        subs = kept[found["name"]]
        attribute = found
        if found["name"] in _ALWAYS_SET.get(urn, ()):
            attribute = {**attribute, "required": True}
        if subs is not None:
            attribute = {
                **found,
                "subAttributes": [s for s in found.get("subAttributes", []) if s["name"] in subs],
            }
        attributes.append(attribute)
    return {**full, "attributes": attributes}


def schemas(base_url: str) -> list[dict[str, Any]]:
    """The three schemas, with only the stored attributes."""
    return [schema(urn, base_url) for urn in _STORED]


def schema(urn: str, base_url: str) -> dict[str, Any]:
    """One schema by its URN (KeyError when it is not ours)."""
    return {
        **_stored_schema(urn),
        "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{urn}"},
    }


def resource_type(name: str, base_url: str) -> dict[str, Any] | None:
    """One resource type by its id."""
    return next((r for r in resource_types(base_url) if r["id"] == name), None)
