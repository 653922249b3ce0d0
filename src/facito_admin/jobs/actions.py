"""The jobs' audit actions (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class JobAction(StrEnum):
    JobCancel = "org:job:cancel"
