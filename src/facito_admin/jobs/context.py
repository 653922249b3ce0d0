"""What a running handler sees: its job's params, checkpoint, progress, cancellation, steps."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

from sqlalchemy import CursorResult, case, null, update
from sqlalchemy.orm import Session

from ..auth.context import Principal, PrincipalKind, RequestContext
from ..db.base import utcnow
from .models import Job

_UNSET: Any = object()


class JobFailed(Exception):
    """Raise from a handler to fail the job with ``message``, which the organisation reads.

    ``retry=False`` fails it at once (a missing consent will not fix itself); otherwise it
    is retried with backoff like any other exception until its attempts are used up.
    """

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


class JobCancelled(Exception):
    """Raised by JobContext.raise_if_cancelled(): the job ends as cancelled."""


class LeaseLost(Exception):
    """The job was given to another worker (this one was presumed dead); stop, write nothing."""


def job_principal(kind: str) -> Principal:
    """The actor of audit events that a job records: the system, naming the job kind."""
    return Principal(
        kind=PrincipalKind.system,
        tenant_id="",
        object_id="",
        display_name=f"facito-admin job {kind}"[:200],
        roles=frozenset(),
        permissions=frozenset(),
        organisation_id=None,
    )


def json_value(value: Any, what: str) -> Any:
    """A deep copy of ``value`` that survives a JSON round trip, or TypeError naming ``what``."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be JSON (dicts, lists, str, int, float, bool, None)") from exc


class JobContext:
    """The handler's view of its job. Created by the runner, one per attempt.

    Progress is kept in memory and written by the heartbeat and by each committed step, so
    reporting it costs nothing. Cancellation is cooperative: the flag is refreshed by every
    heartbeat and step; the handler checks it between steps (raise_if_cancelled()).
    """

    def __init__(
        self,
        *,
        organisation_id: uuid.UUID,
        job_id: uuid.UUID,
        kind: str,
        params: Mapping[str, Any],
        checkpoint: dict[str, Any] | None,
        attempt: int,
        max_attempts: int,
        progress_done: int,
        progress_total: int | None,
        lease: uuid.UUID,
        session: Session,
    ) -> None:
        self.organisation_id = organisation_id
        self.job_id = job_id
        self.kind = kind
        self.params: Mapping[str, Any] = MappingProxyType(copy.deepcopy(dict(params)))
        self.attempt = attempt
        self.max_attempts = max_attempts
        # For record_event(session, ctx.request, …): events name the job as their request.
        self.request = RequestContext(principal=job_principal(kind), request_id=f"job:{job_id}")
        self.lease = lease
        self._session = session
        self._checkpoint = copy.deepcopy(checkpoint)
        self._lock = threading.Lock()
        self._done = progress_done
        self._total = progress_total
        self._cancel = threading.Event()
        self._lease_lost = threading.Event()

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        """The checkpoint of the last committed step (of this or an earlier attempt)."""
        return copy.deepcopy(self._checkpoint)

    @property
    def resumed(self) -> bool:
        """True when an earlier attempt committed a checkpoint that this one continues from."""
        return self._checkpoint is not None

    def progress(self, done: int, total: int | None = _UNSET) -> None:
        """Report progress; it is written with the next heartbeat or step (not at once)."""
        if done < 0 or (total is not _UNSET and total is not None and total < 0):
            raise ValueError("progress counts are not negative")
        with self._lock:
            self._done = done
            if total is not _UNSET:
                self._total = total

    def progress_values(self) -> tuple[int, int | None]:
        with self._lock:
            return self._done, self._total

    @property
    def cancel_requested(self) -> bool:
        """Someone asked to cancel (as of the last heartbeat or step)."""
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        """Stop here when cancellation was requested: uncommitted work is rolled back."""
        if self._lease_lost.is_set():
            raise LeaseLost(str(self.job_id))
        if self._cancel.is_set():
            raise JobCancelled(str(self.job_id))

    def commit_step(
        self,
        *,
        checkpoint: dict[str, Any] | None = _UNSET,
        done: int | None = None,
        total: int | None = _UNSET,
    ) -> None:
        """Commit the session's work together with the checkpoint and progress of this step.

        Either both are stored or neither: a worker killed before the commit leaves the last
        step's checkpoint, and the next attempt redoes only the uncommitted step. Raises
        LeaseLost (after rolling back) when another worker took the job over.
        """
        current_done, current_total = self.progress_values()
        step_done = current_done if done is None else done
        step_total = current_total if total is _UNSET else total
        stored = _UNSET if checkpoint is _UNSET else json_value(checkpoint, "checkpoint")
        values: dict[str, Any] = {"progress_done": step_done, "progress_total": step_total}
        if stored is not _UNSET:
            values["checkpoint"] = null() if stored is None else stored
        self.write_job_row(self._session, values)
        self._session.commit()
        # Only now: a step that fails to commit must not leave its progress behind.
        self.progress(step_done, step_total)
        if stored is not _UNSET:
            self._checkpoint = stored

    def write_job_row(self, session: Session, values: dict[str, Any]) -> None:
        """Update this job's row under the lease, with heartbeat and progress; LeaseLost if gone."""
        done, total = self.progress_values()
        # The counts were read before this UPDATE got its lock: a heartbeat that waited for it
        # while a step committed would write the older count over the step's. So only a step
        # (which passes its own counts) sets progress exactly; other writes never lower it.
        kept = case((Job.progress_done > done, Job.progress_done), else_=done)
        progress = {"progress_done": kept, "progress_total": total}
        values = {"heartbeat_at": utcnow()} | progress | values
        row = cast(
            CursorResult[Any],
            session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.lease == self.lease)
                .values(**values)
                .returning(Job.cancel_requested)
                .execution_options(synchronize_session=False)
            ),
        ).first()
        if row is None:
            self._lease_lost.set()
            session.rollback()
            raise LeaseLost(str(self.job_id))
        if row[0]:
            self._cancel.set()

    def mark_cancel_requested(self) -> None:
        self._cancel.set()

    def mark_lease_lost(self) -> None:
        self._lease_lost.set()

    @property
    def lease_lost(self) -> bool:
        return self._lease_lost.is_set()
