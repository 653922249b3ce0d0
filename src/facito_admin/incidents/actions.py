"""Audit actions of incidents (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class IncidentAction(StrEnum):
    # Facito's own chain (audit/facito_log.py): the incident as its DPO or operators record it.
    Record = "facito:incident:record"
    Update = "facito:incident:update"
    Close = "facito:incident:close"


class IncidentNoticeAction(StrEnum):
    # An affected organisation's chain: what Facito told it, and its own assessment.
    Notify = "org:incident:notify"
    NotifyUpdate = "org:incident:notify-update"
    NotifyClose = "org:incident:notify-close"
    Assess = "org:incident:assess"
