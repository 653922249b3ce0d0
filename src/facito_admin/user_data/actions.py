"""Audit actions of linked data: ingestion, deletion, reads of content (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class DataRecordAction(StrEnum):
    # One event per batch, with its counts: a record is never audited one by one on the way in.
    DataRecordsIngest = "org:data-records:ingest"
    DataRecordDelete = "org:data-record:delete"
    # Every record of one account at once (a guardian's consent revoked, an erasure).
    DataRecordsDeleteAccount = "org:data-records:delete-account"
    # Someone read the content of someone's record: an administrator or privacy officer...
    DataContentRead = "org:data-content:read"
    # ...or the employee their own (GET /v1/me/data/records/{id}/content).
    OwnDataContentRead = "org:own-data-content:read"
