"""The audit log's own audit actions (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # Details: pruned, through_seq, through_hash, pruned_total, before (audit/pruning.py);
    # verification checks the checkpoint against the latest of these (audit/verification.py).
    AuditLogPrune = "org:audit-log:prune"
    # Details: checkpoint_id, seq, hash, key_id (audit/checkpoints.py). Recorded after the head
    # the checkpoint signs, so a checkpoint never covers the event that asked for it.
    AuditLogCheckpoint = "org:audit-log:checkpoint"
