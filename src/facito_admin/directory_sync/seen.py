"""What a full sync's listing found, kept page by page until the listing ends (models.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from ..jobs.models import FINISHED_STATES, Job
from .models import DirectorySyncSeen

ID_SIZE = 16


def keep_seen(
    session: Session, run_id: uuid.UUID, page: int, account_ids: Iterable[uuid.UUID]
) -> None:
    """Store the accounts one page found (in the page's transaction, so a retried page too)."""
    packed = b"".join(account_id.bytes for account_id in account_ids)
    session.add(DirectorySyncSeen(job_id=run_id, page=page, account_ids=packed))


def seen_pages(session: Session, run_id: uuid.UUID) -> int:
    """How many pages of the run stored what they found."""
    query = select(func.count()).where(DirectorySyncSeen.job_id == run_id)
    return int(session.execute(query).scalar_one())


def seen_accounts(session: Session, run_id: uuid.UUID) -> set[bytes]:
    """The ids (16 bytes each) of the accounts the run's pages found."""
    found: set[bytes] = set()
    query = select(DirectorySyncSeen.account_ids).where(DirectorySyncSeen.job_id == run_id)
    for packed in session.execute(query).scalars():
        found.update(packed[i : i + ID_SIZE] for i in range(0, len(packed), ID_SIZE))
    return found


def forget_seen(session: Session, run_id: uuid.UUID) -> None:
    """Drop what the run found, and what runs that ended without finishing left behind."""
    ended = select(Job.id).where(Job.state.in_(FINISHED_STATES))
    session.execute(
        delete(DirectorySyncSeen)
        .where(or_(DirectorySyncSeen.job_id == run_id, DirectorySyncSeen.job_id.in_(ended)))
        .execution_options(synchronize_session=False)
    )
