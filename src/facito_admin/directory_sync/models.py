"""The sync state of each federation: its stored delta link, last runs and schedule."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamped
from ..db.tenancy import TenantScoped

# The job kind of a sync (tasks.py registers its handler; service.py enqueues it).
SYNC_KIND = "directory-sync"
DEFAULT_INTERVAL_MINUTES = 60


class DirectorySyncState(TenantScoped, Timestamped, Base):
    """Where the directory sync of one federation stands, and when it runs next.

    The row appears with the federation's first sync (or schedule change): scheduling is
    opt-in, since a tenant whose administrator granted no directory read would only fail.
    """

    __tablename__ = "directory_sync_states"
    __table_args__ = (
        # Removing a federation removes its sync state; its accounts stay.
        ForeignKeyConstraint(["federation_id"], ["federations.id"], ondelete="CASCADE"),
    )

    federation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    schedule_enabled: Mapped[bool] = mapped_column(default=True)
    interval_minutes: Mapped[int] = mapped_column(default=DEFAULT_INTERVAL_MINUTES)
    # The scheduler enqueues a delta sync once this has passed (null: as soon as enabled).
    next_sync_at: Mapped[datetime | None]
    # Graph's @odata.deltaLink of the last complete run: it carries a token that reads the
    # tenant's changes, so it is never shown through the API.
    delta_link: Mapped[str | None] = mapped_column(Text)
    delta_link_at: Mapped[datetime | None]
    last_full_sync_at: Mapped[datetime | None]
    last_delta_sync_at: Mapped[datetime | None]
    # The job of the last sync asked for: a second one waits until it has finished.
    last_job_id: Mapped[uuid.UUID | None]
    last_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DirectorySyncSeen(TenantScoped, Base):
    """The accounts one page of a full sync found in the directory, for the end of its listing.

    A complete listing removes the federation's accounts it did not find. Its pages store what
    they found here, 16 bytes an account id, a row a page, committed with the page: marking
    each account instead rewrote every account on every full sync, changed or not. The rows
    go when their run finishes (tasks.py) or with the job.
    """

    __tablename__ = "directory_sync_seen"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organisation_id", "job_id"], ["jobs.organisation_id", "jobs.id"], ondelete="CASCADE"
        ),
    )

    job_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    page: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    account_ids: Mapped[bytes] = mapped_column(LargeBinary)
