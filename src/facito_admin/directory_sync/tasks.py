"""A directory sync as a resumable job, and the schedule that starts delta syncs.

A run goes through phases, each step committed with its checkpoint (jobs.JobContext):
``fetch`` one Graph page per step (the checkpoint is the next link; a full sync's page also
stores the accounts it found, seen.py); ``cleanup`` (full syncs only, once the listing is
complete) soft-deletes the federation's accounts the listing did not find, a batch per step;
``deferred`` retries the users whose UPN or e-mail was taken when their
page came; then the run stores its delta link and records its event with the result. A worker
killed anywhere resumes at its last committed step: a page is applied together with its
checkpoint or not at all, so nothing is duplicated or lost.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..audit.service import record_event
from ..db.base import utcnow
from ..db.session import end_read_snapshot
from ..db.tenancy import require_organisation
from ..jobs import JobContext, JobFailed, job_handler, periodic_job
from ..policies.effective.defaults import PolicyKey, policy_flag, policy_value
from ..runtime import Runtime, runtime_of
from ..tenants.models import Federation, FederationStatus, Organisation, OrganisationStatus
from .actions import DirectorySyncAction
from .apply import (
    ConcurrentChange,
    apply_users,
    missing_accounts,
    refresh_statistics,
    remove_missing,
)
from .graph import DeltaExpired, GraphClient, GraphError, GraphPage
from .mapping import DirectoryUser, parse_page
from .models import SYNC_KIND, DirectorySyncState
from .plan import PagePlan, RunFacts
from .seen import forget_seen, keep_seen, seen_accounts, seen_pages

log = structlog.get_logger("facito_admin.directory_sync")
T = TypeVar("T")
# A Graph page, its users parsed and merged, and how many of its entries were unusable.
_Parsed = tuple[GraphPage, list[DirectoryUser], int]

CLEANUP_BATCH = 1000
# The run refreshes the accounts' statistics once it has created this many, and again each
# time it has created four times as many as at its last refresh: three times in 100,000. Under
# a page, so that the second page of a first sync is planned with the first one counted: its
# lookups otherwise read every account of the first page for each key (0.55 s, measured).
STATISTICS_AFTER = 500
# Users kept for the end of the run when their UPN or e-mail was taken; beyond this many (a
# directory at odds with the accounts on a large scale) they count as conflicts at once.
MAX_DEFERRED = 1000
PAGE_ATTEMPTS = 3
COUNTS = (
    "created",
    "updated",
    "disabled",
    "enabled",
    "deleted",
    "restored",
    "unchanged",
    "skipped",
    "conflicts",
    "minors_held",
    # Users outside the organisation's verified domains when its policy requires them.
    "outside_verified_domains",
)


@dataclass
class Progress:
    """The checkpoint of a run: where it is and what it has done so far."""

    mode: str  # full | delta
    phase: str  # fetch | cleanup | deferred | finish
    link: str | None
    delta_link: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    deferred: list[dict[str, Any]] = field(default_factory=list)
    resynced: bool = False
    pages: int = 0
    entries: int = 0
    cleanup_after: str | None = None
    # Pages of the current full listing whose found accounts are stored (seen.py); None in a
    # checkpoint from before they were (accounts were marked then): its listing starts over.
    listed: int | None = None
    # Accounts created when the run last refreshed the planner statistics (apply.py).
    analysed: int = 0
    # Pages already committed when a later attempt took over (a worker died, a retry).
    resumed_at_pages: list[int] = field(default_factory=list)

    def add(self, plan: PagePlan) -> None:
        self.counts = dict(Counter(self.counts) + plan.counts)
        room = MAX_DEFERRED - len(self.deferred)
        self.deferred += [user.as_dict() for user in plan.deferred[:room]]
        overflow = len(plan.deferred) - max(room, 0)
        if overflow > 0:
            self.counts["conflicts"] = self.counts.get("conflicts", 0) + overflow

    def result(self) -> dict[str, Any]:
        counts = {name: self.counts.get(name, 0) for name in COUNTS}
        return {
            "mode": self.mode,
            "resynced": self.resynced,
            "pages": self.pages,
            "entries": self.entries,
            "resumed_at_pages": self.resumed_at_pages,
        } | counts


def _prepare(session: Session, federation_id: uuid.UUID) -> tuple[str, str | None]:
    """The federation's tenant and stored delta link, if it may still be synced."""
    federation = session.get(Federation, federation_id)
    if federation is None or federation.organisation_id != require_organisation(session):
        raise JobFailed("the federation was removed", retry=False)
    organisation = session.get(Organisation, federation.organisation_id)
    if organisation is None:  # pragma: no cover - the foreign key keeps it
        raise JobFailed("the organisation was removed", retry=False)
    if organisation.status is not OrganisationStatus.active:
        raise JobFailed(f"the organisation is {organisation.status.value}", retry=False)
    if federation.status is not FederationStatus.active:
        raise JobFailed(f"the federation is {federation.status.value}, not active", retry=False)
    state = session.get(DirectorySyncState, (organisation.id, federation_id))
    return federation.tenant_id, state.delta_link if state else None


def _patient(ctx: JobContext) -> Callable[[float], None]:
    """Sleeping for Retry-After, in slices, so that a cancel request is heard meanwhile."""

    def wait(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            ctx.raise_if_cancelled()
            time.sleep(min(remaining, 0.25))

    return wait


@job_handler(SYNC_KIND)
def run_directory_sync(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Sync one federation's directory into the organisation's accounts (see the module)."""
    federation_id = uuid.UUID(str(ctx.params["federation_id"]))
    tenant_id, stored_link = _prepare(session, federation_id)
    # Nothing written yet: end the read so that no lock or snapshot waits on Graph.
    end_read_snapshot(session)
    client = GraphClient(runtime_of(session).graph, tenant_id, wait=_patient(ctx))
    run = _Run(session, ctx, client, federation_id)
    try:
        return run.run(stored_link)
    except GraphError as exc:
        raise JobFailed(exc.message, retry=exc.retryable) from None
    finally:
        run.pages.close()
        client.close()


class _Pages:
    """Graph pages, each fetched and parsed in a thread while the page before it is written.

    Fetching the next page as soon as its link is known takes Graph's answer off the run's
    path (a tenth of a full sync, fetched at once). Only one page is ever ahead, and it is
    applied only after the page before it committed, like any other: a worker killed with a
    page ahead fetches it again. Its errors (throttling given up, an expired delta link)
    surface when the page is due, as they would have.
    """

    def __init__(self, client: GraphClient) -> None:
        self._client = client
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-page")
        self._ahead: tuple[str, bool, Future[_Parsed]] | None = None

    def _load(self, link: str, complete: bool) -> _Parsed:
        page = self._client.page(link)
        return (page, *parse_page(page.users, complete=complete))

    def prefetch(self, link: str, *, complete: bool) -> None:
        self._ahead = (link, complete, self._pool.submit(self._load, link, complete))

    def get(self, link: str, *, complete: bool) -> _Parsed:
        """The page at ``link`` with its users parsed, and how many entries were unusable."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[:2] == (link, complete):
            return ahead[2].result()
        if ahead is not None:
            ahead[2].cancel()
            with suppress(Exception):  # its own fault, if any, is of no concern now
                ahead[2].result()
        return self._load(link, complete)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Run:
    def __init__(
        self, session: Session, ctx: JobContext, client: GraphClient, federation_id: uuid.UUID
    ) -> None:
        self.session = session
        self.ctx = ctx
        self.client = client
        self.federation_id = federation_id
        self.pages = _Pages(client)
        # The accounts the cleanup still removes, found at its first step in this process.
        self.missing: list[uuid.UUID] | None = None
        # The organisation's policies the run applies: retention days, verified domains only.
        self.policies: tuple[int, bool] | None = None

    def run(self, stored_link: str | None) -> dict[str, Any]:
        checkpoint = self.ctx.checkpoint
        progress = Progress(**checkpoint) if checkpoint else self._begin(stored_link)
        if checkpoint:
            log.info("directory_sync_resumed", job_id=str(self.ctx.job_id), phase=progress.phase)
            # Recorded with the next committed step (a resume that commits nothing left no trace).
            progress.resumed_at_pages.append(progress.pages)
            listing = progress.mode == "full" and progress.phase in ("fetch", "cleanup")
            if listing and progress.listed is None:
                log.info("directory_sync_listing_restarted", job_id=str(self.ctx.job_id))
                self._full(progress)
        while progress.phase == "fetch":
            self._fetch(progress)
        while progress.phase == "cleanup":
            self._cleanup(progress)
        if progress.phase == "deferred":
            self._retry_deferred(progress)
        return self._finish(progress)

    def _begin(self, stored_link: str | None) -> Progress:
        if self.ctx.params.get("mode", "delta") == "delta" and stored_link:
            return Progress(mode="delta", phase="fetch", link=self.client.check_link(stored_link))
        return self._full(Progress(mode="full", phase="fetch", link=None))

    def _full(self, progress: Progress) -> Progress:
        # The delta link comes first: changes made while the listing runs are replayed by the
        # next delta sync (applying them twice is harmless), never missed.
        progress.mode, progress.phase, progress.listed = "full", "fetch", 0
        progress.cleanup_after = None
        progress.delta_link = self.client.latest_delta_link()
        progress.link = self.client.users_link()
        return progress

    def _facts(self, progress: Progress) -> RunFacts:
        if self.policies is None:
            # Read once per run in this process (six queries a page otherwise): a policy
            # changed meanwhile applies from the next run, or the next attempt.
            self.policies = (
                policy_value(self.session, PolicyKey.RetentionDeletedItemsDays),
                policy_flag(self.session, PolicyKey.AccountsVerifiedDomainsOnly),
            )
        retention_days, verified_domains_only = self.policies
        return RunFacts(
            federation_id=self.federation_id,
            full=progress.mode == "full",
            now=utcnow(),
            retention_days=retention_days,
            verified_domains_only=verified_domains_only,
        )

    def _apply(self, work: Callable[[], T]) -> T:
        """The step's work, again from a fresh read when an account changed under it."""
        for attempt in range(1, PAGE_ATTEMPTS + 1):
            try:
                return work()
            except (ConcurrentChange, IntegrityError, StaleDataError):
                self.session.rollback()
                if attempt == PAGE_ATTEMPTS:
                    raise
                log.info("directory_sync_page_retried", job_id=str(self.ctx.job_id))
        raise AssertionError("unreachable")  # pragma: no cover

    def _commit(self, progress: Progress) -> None:
        self.ctx.commit_step(checkpoint=asdict(progress), done=progress.entries)
        # Bulk statements keep nothing in the identity map, but the chain head and state do.
        self.session.expunge_all()

    def _fetch(self, progress: Progress) -> None:
        self.ctx.raise_if_cancelled()
        if progress.link is None:  # pragma: no cover - every fetch phase has its link
            raise RuntimeError("a fetch step without a link")
        complete = progress.mode == "full"
        try:
            page, users, unusable = self.pages.get(progress.link, complete=complete)
        except DeltaExpired:
            if progress.mode != "delta":
                raise
            log.info("directory_sync_delta_expired", job_id=str(self.ctx.job_id))
            progress.resynced = True
            self._full(progress)  # Graph first, then the write (see jobs: SQLite's lock)
            state = self.session.get(
                DirectorySyncState, (self.ctx.organisation_id, self.federation_id)
            )
            if state is not None:
                state.delta_link = None
            self._commit(progress)
            return
        if page.next_link is not None:
            self.pages.prefetch(page.next_link, complete=complete)
        facts = self._facts(progress)
        created = progress.counts.get("created", 0)
        analyse = created - progress.analysed >= max(STATISTICS_AFTER, 4 * progress.analysed)

        def work() -> PagePlan:
            if analyse:
                refresh_statistics(self.session)
            plan = apply_users(self.session, self.ctx.request, users, facts=facts)
            if facts.full:
                keep_seen(self.session, self.ctx.job_id, progress.pages, plan.seen)
            return plan

        plan = self._apply(work)
        if analyse:
            progress.analysed = created
        if facts.full:
            progress.listed = (progress.listed or 0) + 1
        progress.add(plan)
        progress.counts["skipped"] = progress.counts.get("skipped", 0) + unusable
        progress.pages += 1
        progress.entries += len(page.users)
        progress.link = page.next_link
        if page.next_link is None:
            if progress.mode == "delta":
                progress.delta_link = page.delta_link
            progress.phase = "cleanup" if progress.mode == "full" else "deferred"
            if progress.mode == "full" and progress.entries == 0:
                # A directory always holds its administrators: an empty listing is a fault
                # upstream, and must not delete every account.
                log.warning("directory_sync_empty_listing", job_id=str(self.ctx.job_id))
                progress.phase = "deferred"
        self._commit(progress)

    def _cleanup(self, progress: Progress) -> None:
        self.ctx.raise_if_cancelled()
        facts = self._facts(progress)
        if self.missing is None:
            stored = seen_pages(self.session, self.ctx.job_id)
            if stored != progress.listed:  # pragma: no cover - never, short of a bug
                raise JobFailed(
                    f"the listing kept {stored} of its {progress.listed} pages", retry=False
                )
            after = uuid.UUID(progress.cleanup_after) if progress.cleanup_after else None
            found = seen_accounts(self.session, self.ctx.job_id)
            self.missing = missing_accounts(self.session, facts, found, after=after)
        batch = self.missing[:CLEANUP_BATCH]
        plan = self._apply(
            lambda: remove_missing(self.session, self.ctx.request, batch, facts=facts)
        )
        del self.missing[:CLEANUP_BATCH]
        progress.add(plan)
        if batch:
            progress.cleanup_after = str(batch[-1])
        if not self.missing:
            progress.phase = "deferred"
        self._commit(progress)

    def _retry_deferred(self, progress: Progress) -> None:
        users = [DirectoryUser.from_dict(data) for data in progress.deferred]
        if users:
            facts = self._facts(progress)
            plan = self._apply(
                lambda: apply_users(self.session, self.ctx.request, users, facts=facts, final=True)
            )
            progress.add(plan)
        progress.deferred = []
        progress.phase = "finish"
        self._commit(progress)

    def _finish(self, progress: Progress) -> dict[str, Any]:
        """Store the delta link and record the run: committed with the job's result."""
        result = progress.result()
        now = utcnow()
        state = self.session.get(DirectorySyncState, (self.ctx.organisation_id, self.federation_id))
        if state is not None:
            if progress.delta_link:
                state.delta_link, state.delta_link_at = progress.delta_link, now
            if progress.mode == "full":
                state.last_full_sync_at = now
            else:
                state.last_delta_sync_at = now
            state.last_result = result
        forget_seen(self.session, self.ctx.job_id)
        record_event(
            self.session,
            self.ctx.request,
            action=DirectorySyncAction.DirectorySyncRun,
            target_type="federation",
            target_id=self.federation_id,
            details=result | {"job_id": str(self.ctx.job_id)},
        )
        log.info("directory_sync_finished", job_id=str(self.ctx.job_id), **result)
        return result


@periodic_job("directory-sync-schedule", minute="*/5")
def start_scheduled_syncs(runtime: Runtime) -> None:
    """Every five minutes: a delta sync of each federation whose schedule is due."""
    from .service import enqueue_due_syncs

    enqueue_due_syncs(runtime)
