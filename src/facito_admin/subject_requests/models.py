"""Data-subject requests: the organisation's queue (tenant-scoped) and Facito's DPO queue (global).

Both tables share their columns (:class:`RequestColumns`); a request that spans both
controllers is split into one row in each, linked by id. The timeline is a JSON list on the
row: every change appends one entry under the row's lock, and the list is what the subject,
the handler and an auditor read back (the audit chain holds the same facts, hashed).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..db.base import Base, Timestamped, Versioned, new_id, string_enum
from ..db.tenancy import TenantScoped

DESCRIPTION_LENGTH = 4000
REASON_LENGTH = 2000


class RequestKind(StrEnum):
    """The right exercised (GDPR art. 15-21), or a question that still gets a timely reply."""

    access = "access"  # art. 15
    portability = "portability"  # art. 20
    rectification = "rectification"  # art. 16
    erasure = "erasure"  # art. 17
    restriction = "restriction"  # art. 18
    objection = "objection"  # art. 21
    consent_withdrawal = "consent_withdrawal"  # art. 7(3)
    question = "question"  # a privacy question or complaint


class RequestStatus(StrEnum):
    received = "received"
    verification_pending = "verification_pending"
    routed = "routed"
    in_progress = "in_progress"
    awaiting_subject = "awaiting_subject"
    completed = "completed"
    rejected = "rejected"
    cancelled = "cancelled"


OPEN_STATUSES = frozenset(
    {
        RequestStatus.received,
        RequestStatus.verification_pending,
        RequestStatus.routed,
        RequestStatus.in_progress,
        RequestStatus.awaiting_subject,
    }
)


class RequesterKind(StrEnum):
    """Who filed the request: the subject, or someone on their behalf."""

    subject = "subject"
    guardian = "guardian"  # a guardian for a minor, recorded by the organisation
    administrator = "administrator"  # an administrator of the organisation on their behalf
    integration = "integration"  # a customer system's own intake
    facito_support = "facito_support"  # Facito support, from an e-mail or a call
    facito_dpo = "facito_dpo"


class Channel(StrEnum):
    """How the request reached whoever filed it."""

    api = "api"  # the subject through the API, identity proven by their token
    web_form = "web_form"
    email = "email"
    phone = "phone"
    post = "post"
    in_person = "in_person"


# A request that reached someone by these channels waits until someone verifies the subject.
UNVERIFIED_CHANNELS = frozenset({Channel.email, Channel.phone, Channel.post})


class Queue(StrEnum):
    organisation = "organisation"
    facito_dpo = "facito_dpo"


class RequestColumns(Versioned, Timestamped):
    """The columns both queues share."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # A short, human reference for calls and letters ("DSR-7K3Q9M").
    reference: Mapped[str] = mapped_column(String(16))

    @declared_attr
    def kind(cls) -> Mapped[RequestKind]:  # noqa: N805
        return mapped_column(string_enum(RequestKind, "dsr_kind"))

    @declared_attr
    def status(cls) -> Mapped[RequestStatus]:  # noqa: N805
        return mapped_column(string_enum(RequestStatus, "dsr_status"))

    @declared_attr
    def requester_kind(cls) -> Mapped[RequesterKind]:  # noqa: N805
        return mapped_column(string_enum(RequesterKind, "dsr_requester_kind"))

    @declared_attr
    def channel(cls) -> Mapped[Channel]:  # noqa: N805
        return mapped_column(string_enum(Channel, "dsr_channel"))

    # The subject: an account (organisation-managed), else an identity (name, e-mail).
    subject_account_id: Mapped[uuid.UUID | None]
    # What identifies the subject on the request (name, e-mail, UPN as filed): kept when the
    # account is erased, as the record that the request was answered (art. 5(2)).
    subject_identity: Mapped[dict[str, Any]] = mapped_column(JSON)
    requester_id: Mapped[str] = mapped_column(String(200))
    requester_display: Mapped[str] = mapped_column(String(200))
    # The guardian consent a guardian's request for a minor rests on.
    guardian_consent_id: Mapped[uuid.UUID | None]
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LENGTH))
    # What the request asks for beyond its kind: the changes of a rectification, the
    # categories or products it is limited to, the preferences of an objection.
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    # The clock (deadlines.py): due from receipt plus the response days in force then,
    # moved later by an extension and by the time spent awaiting the subject.
    response_days: Mapped[int]
    max_extension_days: Mapped[int]
    original_due_at: Mapped[datetime]
    due_at: Mapped[datetime]
    awaiting_since: Mapped[datetime | None]
    paused_seconds: Mapped[int] = mapped_column(default=0)
    extension_days: Mapped[int] = mapped_column(default=0)
    extension_reason: Mapped[str | None] = mapped_column(String(REASON_LENGTH))
    extension_notified_at: Mapped[datetime | None]
    due_soon_notified_at: Mapped[datetime | None]
    overdue_notified_at: Mapped[datetime | None]
    # How routing decided (routing.py): the rule that applied and why.
    routing: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The twin in the other queue when the request was split between controllers.
    linked_request_id: Mapped[uuid.UUID | None]
    assignee_id: Mapped[str | None] = mapped_column(String(200))
    assignee_display: Mapped[str | None] = mapped_column(String(200))
    # completed or rejected: the outcome the subject reads.
    decided_at: Mapped[datetime | None]
    decided_by_display: Mapped[str | None] = mapped_column(String(200))
    decision_summary: Mapped[str | None] = mapped_column(String(REASON_LENGTH))
    rejection_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    # Fulfilment jobs started for the request, and what each produced.
    job_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timeline: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class SubjectRequest(TenantScoped, RequestColumns, Base):
    """A data-subject request in an organisation's queue (the organisation is the controller).

    ``subject_account_id`` has no foreign key to accounts, on purpose: an erasure ends with the
    account purged, and the request must outlive it as the record of the answer.
    """

    __tablename__ = "data_subject_requests"
    __table_args__ = (
        Index("ix_dsr_org_status_due", "organisation_id", "status", "due_at"),
        Index("ix_dsr_org_account", "organisation_id", "subject_account_id", "id"),
        Index("ix_dsr_org_reference", "organisation_id", "reference", unique=True),
        {"info": {"resource": "data-subject request"}},
    )

    queue = Queue.organisation


class FacitoSubjectRequest(RequestColumns, Base):
    """A data-subject request in Facito's DPO queue: a personal account's, or the part of an
    organisation user's request about data Facito controls itself."""

    __tablename__ = "facito_data_subject_requests"
    __table_args__ = (
        Index("ix_facito_dsr_status_due", "status", "due_at"),
        Index("ix_facito_dsr_reference", "reference", unique=True),
        {"info": {"resource": "data-subject request"}},
    )

    queue = Queue.facito_dpo
    # For the Facito-controlled part of an organisation user's request: whose account.
    subject_organisation_id: Mapped[uuid.UUID | None]


# A restriction of processing (art. 18) is in accounts/models.py (ProcessingRestriction): the
# linked data and the preferences honour it, and neither may import this domain.
