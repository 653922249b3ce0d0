"""Directory syncs against the local fakes of Entra (tokens) and Graph (users), run by a real
huey consumer (tests/factories/jobs.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from facito_admin.accounts.models import Account
from facito_admin.audit.models import AuditEvent
from facito_admin.audit.sealing import seal_organisation
from facito_admin.auth.microsoft import EntraApps
from facito_admin.db.session import unit_of_work
from facito_admin.directory_sync import service
from facito_admin.directory_sync.models import DirectorySyncState
from facito_admin.jobs.models import Job
from facito_admin.outbound import GraphAccess
from facito_admin.runtime import Runtime
from tests.conftest import CLIENT_ID, TENANT_A, TENANT_B, Org
from tests.factories.audit import admin_ctx
from tests.factories.jobs import QueueHarness
from tests.factories.runtime import swapped
from tests.fakes.entra import FakeEntra
from tests.fakes.graph import FakeGraph

CLIENT_SECRET = "s3cret-of-the-app"


@dataclass
class Fakes:
    entra: FakeEntra
    graph: FakeGraph

    def access(self, **overrides: Any) -> GraphAccess:
        """Graph access through the fakes; short waits so that throttling tests stay quick."""
        ca = str(self.entra.ca_file)
        entra = EntraApps(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            authority_host=self.entra.base_url,
            verify=ca,
            timeout=5,
        )
        options: dict[str, Any] = {
            "base_url": self.graph.base_url,
            "verify": ca,
            "timeout": 5,
            "max_retries": 3,
            "backoff_seconds": 0.05,
        }
        return GraphAccess(entra=entra, **options | overrides)

    def env(self) -> dict[str, str]:
        """The environment of a worker process that syncs through the fakes."""
        return {
            "FACITO_GRAPH_BASE_URL": self.graph.base_url,
            "FACITO_AUTHORITY_HOST": self.entra.base_url,
            "FACITO_CA_BUNDLE": str(self.entra.ca_file),
            "FACITO_CLIENT_ID": CLIENT_ID,
            "FACITO_CLIENT_SECRET": CLIENT_SECRET,
        }


@pytest.fixture(scope="session")
def directory_fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fakes]:
    entra = FakeEntra(Path(tmp_path_factory.mktemp("directory-fakes")))
    entra.start()
    # One CA for both, so one bundle file trusts them.
    graph = FakeGraph(ca=entra.ca)
    graph.start()
    yield Fakes(entra, graph)
    graph.stop()
    entra.stop()


@pytest.fixture
def fakes(directory_fakes: Fakes) -> Fakes:
    """Both fakes, emptied: tokens for the tenants of org A and org B, no users."""
    directory_fakes.entra.reset()
    directory_fakes.graph.reset()
    for tenant in (TENANT_A, TENANT_B):
        directory_fakes.entra.issue_tokens(tenant)
    return directory_fakes


@pytest.fixture
def graph(fakes: Fakes) -> FakeGraph:
    return fakes.graph


@dataclass
class SyncHarness:
    jobs: QueueHarness
    fakes: Fakes

    @property
    def runtime(self) -> Runtime:
        return self.jobs.runtime

    def start(
        self, org: Org, mode: str = "full", federation_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        with unit_of_work(self.runtime, organisation_id=org.id) as session:
            job = service.start_directory_sync(
                session, admin_ctx(org.id), federation_id=federation_id, mode=mode
            )
            return job.id

    def run(self, org: Org, mode: str = "full", **kwargs: Any) -> Job:
        """Start a sync and wait until its job has finished (a consumer runs it)."""
        if self.jobs.consumer is None:
            self.jobs.start(workers=2)
        job_id = self.start(org, mode, **kwargs)
        return self.jobs.wait_for(org.id, job_id, lambda j: j.finished_at is not None, 60)

    def accounts(self, org: Org) -> list[Account]:
        with self.runtime.session(organisation_id=org.id) as session:
            return list(session.scalars(select(Account).order_by(Account.user_principal_name)))

    def by_oid(self, org: Org) -> dict[str, Account]:
        return {a.entra_oid: a for a in self.accounts(org) if a.entra_oid}

    def events(self, org: Org, prefix: str = "") -> list[AuditEvent]:
        # What a job recorded just before it ended may still wait for its sealer (it seals
        # right after the job's commit): seal it first, as the every-minute scan would.
        seal_organisation(self.runtime, org.id)
        with self.runtime.session(organisation_id=org.id) as session:
            events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
            return [e for e in events if e.action.startswith(prefix)]

    def state(self, org: Org) -> DirectorySyncState | None:
        with self.runtime.session(organisation_id=org.id) as session:
            return session.scalars(select(DirectorySyncState)).first()


@pytest.fixture
def queue_backend() -> str:
    """Syncs run on the SQLite queue only (the queue backends are the jobs tests' concern)."""
    return "sqlite"


@pytest.fixture
def syncs(jobs: QueueHarness, fakes: Fakes) -> Iterator[SyncHarness]:
    with swapped(jobs.runtime, graph=fakes.access()):
        yield SyncHarness(jobs, fakes)


def federation_of(runtime: Runtime, org: Org) -> uuid.UUID:
    """The id of the organisation's (first) federation."""
    from facito_admin.tenants.models import Federation

    with runtime.session() as session:
        federation_id = session.scalar(
            select(Federation.id)
            .where(Federation.organisation_id == org.id)
            .order_by(Federation.id)
            .limit(1)
        )
        assert federation_id is not None
        return federation_id
