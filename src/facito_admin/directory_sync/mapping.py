"""Graph users as account fields: parsing, cleaning and merging (pure, no session).

A full listing states every selected property (null included). A delta entry is trusted only
for what it states: Graph leaves out properties that were never set, and a user that appears
twice in one round is merged property by property, the later entry winning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..accounts.fields import FIELDS, max_length
from ..accounts.rules import GUID
from ..common.schemas import UNSTORABLE

# The Graph user properties a sync selects: those of the account fields (accounts/fields.py).
PROPERTIES = tuple(f.graph for f in FIELDS.values() if f.graph)
# Graph property → account field, for the strings a sync copies as they come; the object id
# (entra_oid) and accountEnabled (status) are read by parse_user itself.
GRAPH_FIELDS = {
    f.graph: f.name for f in FIELDS.values() if f.graph and f.graph not in ("id", "accountEnabled")
}
SYNCED_FIELDS = tuple(GRAPH_FIELDS.values())
LIMITS = {name: max_length(name) for name in SYNCED_FIELDS}
REMOVAL_REASONS = frozenset({"changed", "deleted"})


@dataclass(frozen=True)
class DirectoryUser:
    """One user of a Graph page: its object id and what the page says about it."""

    oid: str
    # `changed` (soft-deleted in Entra, restorable) or `deleted` (gone for good); None: present.
    removed: str | None = None
    # The account fields the entry states; a full listing states them all.
    fields: dict[str, str | None] = field(default_factory=dict)
    enabled: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON for a job checkpoint (deferred users are retried by a later step)."""
        return {"id": self.oid, "removed": self.removed, "fields": self.fields, "on": self.enabled}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DirectoryUser:
        return cls(
            oid=str(data["id"]),
            removed=data.get("removed"),
            fields=dict(data.get("fields") or {}),
            enabled=data.get("on"),
        )


def clean(value: Any, limit: int) -> str | None:
    """A directory string as we store it: trimmed, without control characters, cut to size."""
    if not isinstance(value, str):
        return None
    text = UNSTORABLE.sub("", value).strip()
    return text[:limit] or None


def parse_user(raw: dict[str, Any], *, complete: bool) -> DirectoryUser | None:
    """The user of one Graph entry; None when it has no usable object id."""
    oid = raw.get("id")
    if not isinstance(oid, str) or not GUID.match(oid.strip().lower()):
        return None
    oid = oid.strip().lower()
    removed = raw.get("@removed")
    if isinstance(removed, dict):
        reason = removed.get("reason")
        # An unknown reason is treated as the stronger one Graph documents for directory objects.
        return DirectoryUser(oid, removed=reason if reason in REMOVAL_REASONS else "deleted")
    fields: dict[str, str | None] = {}
    for prop, name in GRAPH_FIELDS.items():
        if complete or prop in raw:
            fields[name] = clean(raw.get(prop), LIMITS[name])
    enabled = raw.get("accountEnabled")
    return DirectoryUser(oid, fields=fields, enabled=enabled if isinstance(enabled, bool) else None)


def merge(users: Iterable[DirectoryUser]) -> list[DirectoryUser]:
    """One entry per object id, later entries winning (property by property for updates)."""
    merged: dict[str, DirectoryUser] = {}
    for user in users:
        earlier = merged.get(user.oid)
        if earlier is None or user.removed is not None or earlier.removed is not None:
            merged[user.oid] = user
            continue
        merged[user.oid] = replace(
            earlier,
            fields=earlier.fields | user.fields,
            enabled=user.enabled if user.enabled is not None else earlier.enabled,
        )
    return list(merged.values())


def parse_page(
    raw_users: Iterable[dict[str, Any]], *, complete: bool
) -> tuple[list[DirectoryUser], int]:
    """The page's users merged by object id, and how many entries were unusable."""
    parsed: list[DirectoryUser] = []
    unusable = 0
    for raw in raw_users:
        user = parse_user(raw, complete=complete)
        if user is None:
            unusable += 1
        else:
            parsed.append(user)
    return merge(parsed), unusable
