"""The audit log's own audit actions (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # Details: pruned, through_seq, through_hash, pruned_total, before (audit/pruning.py);
    # verification checks the checkpoint against the latest of these (audit/verification.py).
    AuditLogPrune = "org:audit-log:prune"
