"""Audit actions of the end of contract (tests/contract/test_audit_actions.py lists them)."""

from __future__ import annotations

from enum import StrEnum


class OffboardingAction(StrEnum):
    # On the organisation's chain: its full export was started, written, downloaded.
    ExportStart = "org:export:start"
    ExportWrite = "org:export:write"
    ExportDownload = "org:export:download"
    # On Facito's chain: the offboarded organisation's data was deleted (the certificate).
    DataDelete = "facito:offboarding:delete-data"
