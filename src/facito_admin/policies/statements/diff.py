"""What changed between two statement versions: parameters key by key, change log, bodies.

Pure: the service hands in the two versions and the change-log entries between them.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ParameterChangeKind(StrEnum):
    added = "added"
    removed = "removed"
    changed = "changed"


@dataclass(frozen=True)
class ParameterChange:
    key: str
    change: ParameterChangeKind
    old: Any
    new: Any


@dataclass(frozen=True)
class BodyChange:
    language: str
    changed: bool
    in_from: bool
    in_to: bool
    # The text change as a unified diff (difflib), empty when the text is the same.
    text_diff: str = ""


def parameter_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ParameterChange]:
    """Keys added, removed or given another value, in key order (equal values are left out)."""
    result: list[ParameterChange] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old:
            result.append(ParameterChange(key, ParameterChangeKind.added, None, new[key]))
        elif key not in new:
            result.append(ParameterChange(key, ParameterChangeKind.removed, old[key], None))
        elif old[key] != new[key]:
            result.append(ParameterChange(key, ParameterChangeKind.changed, old[key], new[key]))
    return result


def body_changes(
    old: Mapping[str, str], new: Mapping[str, str], *, labels: tuple[str, str] = ("from", "to")
) -> list[BodyChange]:
    """Per language of either version: whether its text differs, and how (a unified diff)."""
    return [
        BodyChange(
            language=language,
            changed=old.get(language) != new.get(language),
            in_from=language in old,
            in_to=language in new,
            text_diff=_text_diff(old.get(language, ""), new.get(language, ""), labels),
        )
        for language in sorted(old.keys() | new.keys())
    ]


def _text_diff(old: str, new: str, labels: tuple[str, str]) -> str:
    if old == new:
        return ""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=labels[0],
        tofile=labels[1],
    )
    # A last line without a newline would run into the next header line of the diff.
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# The parameters that name where data is stored: a version that adds a member to either gives
# each organisation the chance to object (GDPR art. 28(2); policies/notices/objections.py).
STORAGE_PARAMETERS = {
    "subprocessors": "subprocessors.allowed",
    "regions": "residency.allowed_regions",
}


def storage_additions(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> dict[str, list[str]] | None:
    """Subprocessors and regions ``new`` allows that ``old`` did not (None: it adds neither)."""
    additions = {
        name: sorted(set(new.get(key) or []) - set(old.get(key) or []))
        for name, key in STORAGE_PARAMETERS.items()
    }
    return additions if any(additions.values()) else None
