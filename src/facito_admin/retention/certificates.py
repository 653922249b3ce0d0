"""Deletion certificates: what a purge removed for good, on which policy, and what holds kept."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..db.tenancy import require_organisation
from ..errors import NotFound
from .actions import RetentionAction
from .models import DeletionCertificate, DeletionKind
from .selection import PolicyBasis


def write_certificate(
    session: Session,
    ctx: RequestContext,
    *,
    kind: DeletionKind,
    job_id: uuid.UUID | None,
    started_at: datetime,
    policy: PolicyBasis,
    removed: dict[str, Any],
    removed_total: int,
    kept_by_holds: dict[str, Any],
    basis: dict[str, Any],
) -> DeletionCertificate:
    """Store the certificate of a finished purge and its audit event, in the caller's step."""
    certificate = DeletionCertificate(
        kind=kind,
        job_id=job_id,
        started_at=started_at,
        statement_version_id=policy.statement_version_id,
        statement_version_label=policy.statement_version_label,
        contract_id=policy.contract_id,
        contract_reference=policy.contract_reference,
        removed=removed,
        removed_total=removed_total,
        kept_by_holds=kept_by_holds,
        basis=basis,
    )
    session.add(certificate)
    session.flush()
    record_event(
        session,
        ctx,
        action=RetentionAction.DeletionCertify,
        target_type="deletion_certificate",
        target_id=certificate.id,
        details={
            "kind": kind.value,
            "job_id": None if job_id is None else str(job_id),
            "removed_total": removed_total,
            "kept_by_holds": kept_by_holds.get("total", 0),
        },
    )
    return certificate


def get_certificate(session: Session, *, certificate_id: uuid.UUID) -> DeletionCertificate:
    """One of the organisation's deletion certificates, or 404."""
    found = session.get(DeletionCertificate, (require_organisation(session), certificate_id))
    if found is None:
        raise NotFound("no such deletion certificate")
    return found


def list_certificates(
    session: Session, *, kind: DeletionKind | None, limit: int, cursor: str | None
) -> Page[DeletionCertificate]:
    """The organisation's deletion certificates, newest first, of one kind or all."""
    query = select(DeletionCertificate)
    if kind is not None:
        query = query.where(DeletionCertificate.kind == kind)
    return paginate(
        session, query, keys=[DeletionCertificate.id], limit=limit, cursor=cursor, descending=True
    )
