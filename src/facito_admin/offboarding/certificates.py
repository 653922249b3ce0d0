"""Offboarding certificates for Facito's operators and DPO (global: the organisations' own
data is what they certify was deleted)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..common.pagination import Page, paginate
from ..errors import NotFound
from .models import OffboardingCertificate


def list_certificates(
    session: Session, *, organisation_id: uuid.UUID | None, limit: int, cursor: str | None
) -> Page[OffboardingCertificate]:
    """Offboarding certificates, newest first, of one organisation or all."""
    query = select(OffboardingCertificate)
    if organisation_id is not None:
        query = query.where(OffboardingCertificate.organisation_id == organisation_id)
    return paginate(
        session,
        query,
        keys=[OffboardingCertificate.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def get_certificate(session: Session, *, certificate_id: uuid.UUID) -> OffboardingCertificate:
    """One offboarding certificate, or 404."""
    found = session.get(OffboardingCertificate, certificate_id)
    if found is None:
        raise NotFound("no such offboarding certificate")
    return found
