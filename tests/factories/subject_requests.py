"""Data-subject requests filed through the real service, for the walks and the fuzzing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from facito_admin.db.base import utcnow
from facito_admin.db.session import unit_of_work
from facito_admin.runtime import Runtime
from facito_admin.subject_requests import service
from facito_admin.subject_requests.models import Channel, RequestKind
from tests.factories.accounts import make_account
from tests.factories.audit import admin_ctx
from tests.factories.retention import add_record


@dataclass(frozen=True)
class SeededRequest:
    account_id: uuid.UUID
    # The subject's Entra object id: their own token reaches the request under /v1/me.
    entra_oid: str
    # The organisation's part, in its queue, and the linked part in Facito's DPO queue.
    request_id: uuid.UUID
    dpo_request_id: uuid.UUID

    @property
    def ids(self) -> list[str]:
        return [str(self.request_id), str(self.dpo_request_id)]


def file_subject_request(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    kind: RequestKind = RequestKind.access,
) -> tuple[uuid.UUID, uuid.UUID | None]:
    """A request about the account filed by an administrator (joined to an open one of the
    same kind, as the service does); its id and its DPO twin's."""
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        filed = service.file_request(
            session,
            admin_ctx(organisation_id),
            account_id=account_id,
            kind=kind,
            description="Seeded request",
            scope={},
            channel=Channel.web_form,
            on_behalf_of=None,
            guardian_consent_id=None,
        )
        return filed.request.id, filed.request.linked_request_id


def seed_subject_request(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    *,
    n: int | str = "dsr",
    kind: RequestKind = RequestKind.access,
) -> SeededRequest:
    """An account with data Facito controls itself and a request about it: one row in the
    organisation's queue and its linked twin in the DPO's."""
    oid = str(uuid.uuid4())
    account = make_account(runtime, organisation_id, n, entra_oid=oid)
    add_record(
        runtime, organisation_id, account.id, category="commerce.payment", occurred_at=utcnow()
    )
    request_id, twin = file_subject_request(runtime, organisation_id, account.id, kind=kind)
    assert twin is not None, "the seed's payment record should split the request"
    return SeededRequest(account.id, oid, request_id, twin)
