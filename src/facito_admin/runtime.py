"""The runtime: what a process holds for its lifetime, in one typed object.

Settings, the database, the token validator, the tenant directory, the job queue and the
outbound clients (Entra, Graph, webhook receivers) are built once by
:func:`facito_admin.bootstrap.build_runtime` (the app factory, the CLI and the worker call it)
and reach code in two ways only: the web edge keeps the app's runtime, and every session opened
through the runtime carries it (:func:`runtime_of`), the way a session carries its
organisation. Nothing is looked up in a registry and nothing falls back to the environment: a
session opened without the runtime cannot enqueue a job or call out, and says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from joserfc.jwk import RSAKey
from sqlalchemy.orm import Session

from .auth.audit_keys import AuditKeys
from .auth.microsoft import EntraApps
from .auth.tenants import TenantDirectory
from .auth.tokens import TokenValidator
from .config import Settings
from .db.session import Database
from .outbound import GraphAccess, WebhookConfig

RUNTIME_KEY = "facito_runtime"


class JobSender(Protocol):
    """Puts the queue message of a committed job row (jobs/queue.py: JobQueue)."""

    def send(self, organisation_id: uuid.UUID, job_id: uuid.UUID, *, delay: float = 0) -> None:
        """Send one message for the job; duplicates are harmless."""


@dataclass(eq=False)
class Runtime:
    """Everything the process holds for its lifetime (see the module docstring).

    Built once at start and not changed by the application; tests swap a component (a fake
    Graph, a webhook config that reaches 127.0.0.1) for the length of one test.
    """

    settings: Settings
    database: Database
    validator: TokenValidator
    tenants: TenantDirectory
    queue: JobSender
    entra: EntraApps
    graph: GraphAccess
    webhooks: WebhookConfig
    # Facito's audit signing keys: sign and verify organisations' chain checkpoints.
    audit_keys: AuditKeys
    # The development issuer's signing key (None unless the development issuer is on).
    dev_key: RSAKey | None = None

    def session(
        self,
        *,
        organisation_id: uuid.UUID | None = None,
        write: bool = False,
        cross_organisation_reason: str | None = None,
    ) -> Session:
        """A new session of the database that carries this runtime (``runtime_of``)."""
        session = self.database.session(
            organisation_id=organisation_id,
            write=write,
            cross_organisation_reason=cross_organisation_reason,
        )
        session.info[RUNTIME_KEY] = self
        return session

    def dispose(self) -> None:
        """Close the database's connections (the end of the process, or of a test run)."""
        self.database.dispose()


def runtime_of(session: Session) -> Runtime:
    """The runtime that opened ``session``; TypeError for a session opened without one."""
    runtime = session.info.get(RUNTIME_KEY)
    if not isinstance(runtime, Runtime):
        raise TypeError("this session was not opened through the runtime (Runtime.session)")
    return runtime
