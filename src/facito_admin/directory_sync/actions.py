"""The directory syncs' audit actions (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class DirectorySyncAction(StrEnum):
    DirectorySyncStart = "org:directory-sync:start"
    DirectorySyncRun = "org:directory-sync:run"
    DirectorySyncSchedule = "org:directory-sync:schedule"
