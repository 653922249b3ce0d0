"""The daily checkpoint scan: every organisation whose chain head moved gets a new checkpoint."""

from __future__ import annotations

from ..audit.checkpoints import organisations_due_checkpoint
from ..db.base import utcnow
from ..db.session import cross_organisation_session, unit_of_work
from ..jobs import periodic_job
from ..runtime import Runtime
from .service import checkpoint_if_moved

SCAN_NAME = "audit-checkpoint-scan"


def checkpoint_moved_heads(runtime: Runtime) -> int:
    """A checkpoint for each organisation whose head moved since its last one; how many."""
    with cross_organisation_session(
        runtime, reason="find organisations whose audit chain head moved since its checkpoint"
    ) as session:
        due = organisations_due_checkpoint(session, utcnow())
    made = 0
    for organisation_id in due:
        # Each in its own transaction: one signature and one row, no job needed.
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            made += checkpoint_if_moved(session) is not None
    return made


@periodic_job(SCAN_NAME, minute="41", hour="2")
def scan_for_moved_heads(runtime: Runtime) -> None:
    """Daily: sign a checkpoint of each organisation's chain head that moved since the last."""
    checkpoint_moved_heads(runtime)
