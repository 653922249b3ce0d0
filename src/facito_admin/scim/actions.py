"""SCIM's audit actions: its bearer tokens (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class ScimAction(StrEnum):
    ScimTokenCreate = "org:scim-token:create"
    ScimTokenRevoke = "org:scim-token:revoke"
