"""The groups' audit actions (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class GroupAction(StrEnum):
    GroupCreate = "org:group:create"
    GroupUpdate = "org:group:update"
    GroupDelete = "org:group:delete"
