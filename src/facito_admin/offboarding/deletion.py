"""After the return period: delete an offboarded organisation's data, except what legal holds
keep, and certify it on Facito's own chain (GDPR art. 28(3)(g)).

An hourly scan finds the offboarded organisations past ``data_return_until`` whose data is
not deleted yet (or where a hold that kept data has been released since) and, per
organisation, deletes the rows of every table that has an ``organisation_id`` (children
first, in batches of :data:`BATCH`; the organisation's row stays), then writes the
certificate. What legal holds keep (retention/holds.py, retention/selection.py: GDPR art.
17(3)(b),(e)):

- an active organisation-wide hold keeps everything, the audit chain included;
- an active account hold keeps that account and all its linked data records, an
  account+category hold the account and its records of that category; the holds themselves
  stay, and so does the head of the audit chain (the hold's release is recorded there; the
  events themselves go). The account's other rows (products, preferences, memberships) go,
  and a reference to a manager who goes is cleared.

Progress lives in the organisation's :class:`OffboardingCertificate` (global): each batch
commits its deletion with the counts, so a killed run's successor (the next scan) resumes
where the last commit left off and counts nothing twice. The last step records the event on
Facito's chain, completes the certificate and sets the organisation's ``data_deleted_at``, and
removes its export files.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from ..accounts.models import Account
from ..audit.facito_log import record_facito_event
from ..audit.models import AuditChainHead
from ..db.base import Base, utcnow
from ..db.session import cross_organisation_session, unit_of_work
from ..db.tenancy import ORGANISATION_KEY
from ..jobs import periodic_job, system_context
from ..retention.models import LegalHold, LegalHoldScope
from ..retention.selection import held_clause
from ..runtime import Runtime
from ..tenants.models import Organisation, OrganisationStatus
from ..user_data.models import DataRecord
from .actions import OffboardingAction
from .exports import export_folder
from .models import OffboardingCertificate

SCAN_NAME = "offboarding-deletion"
# Rows per step, as the retention run's: few round trips, short transactions.
BATCH = 5000
# Tables with an organisation_id that are not the organisation's data: Facito's certificate.
NOT_DELETED = frozenset({OffboardingCertificate.__tablename__})

log = structlog.get_logger("facito_admin.offboarding")


def organisation_models() -> list[type[Any]]:
    """Every model with an organisation_id, children before parents (the foreign keys)."""
    by_table = {mapper.local_table: mapper.class_ for mapper in Base.registry.mappers}
    return [
        by_table[table]
        for table in reversed(Base.metadata.sorted_tables)
        if ORGANISATION_KEY in table.c and table.name not in NOT_DELETED and table in by_table
    ]


def _active_hold() -> ColumnElement[bool]:
    return LegalHold.released_at.is_(None)


def _held_accounts() -> Any:
    return select(LegalHold.account_id).where(_active_hold(), LegalHold.account_id.is_not(None))


def held(model: type[Any]) -> ColumnElement[bool] | None:
    """The rows of ``model`` that account holds keep (None: no row of it is kept)."""
    if model is Account:
        return Account.id.in_(_held_accounts())
    if model is DataRecord:
        return held_clause()
    if model is LegalHold:
        return _active_hold()
    if model is AuditChainHead:
        # While a hold keeps data, its release (and later changes) must still be recorded on
        # the organisation's chain: its head stays, its events go.
        return exists(select(LegalHold.id).where(_active_hold()))
    return None


def _batch_key(model: type[Any]) -> Any:
    """The column a batch is chosen by: the first key column after the organisation."""
    keys = [c for c in model.__table__.primary_key.columns if c.key != ORGANISATION_KEY]
    return getattr(model, keys[0].key) if keys else None


def _deletable(model: type[Any], organisation_id: uuid.UUID) -> list[ColumnElement[bool]]:
    # Explicit, not only the session's: federations and e-mail domains are global tables.
    where: list[ColumnElement[bool]] = [model.organisation_id == organisation_id]
    kept = held(model)
    if kept is not None:
        where.append(~kept)
    return where


def _delete_batch(
    session: Session, model: type[Any], organisation_id: uuid.UUID, batch: int
) -> int:
    """Delete up to a batch of the model's rows that nothing holds; how many went."""
    where = _deletable(model, organisation_id)
    key = _batch_key(model)
    statement = delete(model).where(*where)
    if key is not None:
        chosen = select(key).where(*where).distinct().limit(batch).scalar_subquery()
        statement = statement.where(key.in_(chosen))
    result: Any = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)


def _clear_managers(session: Session, organisation_id: uuid.UUID, batch: int) -> int:
    """Clear up to a batch of manager references to accounts that go (the self foreign key):
    of accounts that go too, and of held accounts whose manager is not held."""
    targets = select(Account.id).where(
        Account.organisation_id == organisation_id,
        Account.manager_id.is_not(None),
        ~Account.manager_id.in_(_held_accounts()),
    )
    result: Any = session.execute(
        update(Account)
        .where(Account.id.in_(targets.limit(batch).scalar_subquery()))
        .values(manager_id=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def _lock_certificate(session: Session, certificate_id: uuid.UUID) -> OffboardingCertificate:
    return session.scalars(
        select(OffboardingCertificate)
        .where(OffboardingCertificate.id == certificate_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _organisation_holds(session: Session) -> list[LegalHold]:
    return list(session.scalars(select(LegalHold).where(_active_hold()).order_by(LegalHold.id)))


def _start(runtime: Runtime, organisation_id: uuid.UUID, now: datetime) -> uuid.UUID | None:
    """The certificate under way for the organisation, or a new one (None: nothing due)."""
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        organisation = session.get(Organisation, organisation_id, with_for_update=True)
        if (
            organisation is None
            or organisation.status is not OrganisationStatus.offboarded
            or organisation.data_return_until is None
            or organisation.data_return_until > now
        ):
            return None
        under_way = session.scalar(
            select(OffboardingCertificate.id).where(
                OffboardingCertificate.organisation_id == organisation_id,
                OffboardingCertificate.completed_at.is_(None),
            )
        )
        if under_way is not None:
            return under_way
        certificate = OffboardingCertificate(
            organisation_id=organisation_id,
            organisation_slug=organisation.slug,
            organisation_name=organisation.name,
            offboarded_at=organisation.offboarded_at,
            data_return_until=organisation.data_return_until,
            return_basis=dict(organisation.data_return_basis or {}),
            started_at=now,
            removed={},
            removed_total=0,
            kept_by_holds={},
        )
        session.add(certificate)
        session.flush()
        return certificate.id


def _add(certificate: OffboardingCertificate, table: str, count: int) -> None:
    removed = dict(certificate.removed)
    removed[table] = removed.get(table, 0) + count
    certificate.removed = removed
    certificate.removed_total += count


def _delete_all(
    runtime: Runtime, organisation_id: uuid.UUID, certificate_id: uuid.UUID, batch: int
) -> bool:
    """Delete, batch by batch, every row no hold keeps; False when an organisation-wide hold
    keeps everything."""
    with runtime.session(organisation_id=organisation_id) as session:
        if any(h.scope is LegalHoldScope.organisation for h in _organisation_holds(session)):
            return False
    while True:
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            _lock_certificate(session, certificate_id)
            if _clear_managers(session, organisation_id, batch) < batch:
                break
    for model in organisation_models():
        table = model.__table__.name
        while True:
            with unit_of_work(runtime, organisation_id=organisation_id) as session:
                certificate = _lock_certificate(session, certificate_id)
                count = _delete_batch(session, model, organisation_id, batch)
                if count:
                    _add(certificate, table, count)
            if _batch_key(model) is None or count < batch:
                break
    return True


def _kept(session: Session, organisation_id: uuid.UUID, everything: bool) -> dict[str, Any]:
    """What the holds kept: rows per table, and the holds."""
    holds = _organisation_holds(session)
    rows: dict[str, int] = {}
    for model in organisation_models():
        count = session.scalar(
            select(func.count()).select_from(model).where(model.organisation_id == organisation_id)
        )
        if count:
            rows[model.__table__.name] = int(count)
    return {
        "organisation_wide": everything,
        "total": sum(rows.values()),
        "rows": rows,
        "holds": [
            {
                "legal_hold_id": str(h.id),
                "scope": h.scope.value,
                "account_id": None if h.account_id is None else str(h.account_id),
                "category": h.category,
                "reference": h.reference,
            }
            for h in holds
        ],
    }


def _finish(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    certificate_id: uuid.UUID,
    *,
    everything_held: bool,
) -> OffboardingCertificate:
    with unit_of_work(runtime, organisation_id=organisation_id) as session:
        certificate = _lock_certificate(session, certificate_id)
        organisation = session.get(Organisation, organisation_id, with_for_update=True)
        assert organisation is not None  # noqa: S101 - the row is never deleted
        now = utcnow()
        certificate.kept_by_holds = _kept(session, organisation_id, everything_held)
        certificate.completed_at = now
        event = record_facito_event(
            session,
            system_context(SCAN_NAME),
            action=OffboardingAction.DataDelete,
            target_type="organisation",
            target_id=organisation_id,
            details={
                "offboarding_certificate_id": str(certificate.id),
                "organisation_slug": certificate.organisation_slug,
                "offboarded_at": certificate.offboarded_at,
                "data_return_until": certificate.data_return_until,
                "return_period": certificate.return_basis,
                "started_at": certificate.started_at,
                "removed": certificate.removed,
                "removed_total": certificate.removed_total,
                "kept_by_holds": certificate.kept_by_holds,
            },
        )
        certificate.facito_event_seq = event.seq
        organisation.data_deleted_at = now
        if not everything_held:
            # Copies of the data: exports written during the return period go with it.
            shutil.rmtree(export_folder(runtime, organisation_id), ignore_errors=True)
        session.flush()
        session.expunge(certificate)
        return certificate


def delete_organisation_data(
    runtime: Runtime,
    organisation_id: uuid.UUID,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
) -> OffboardingCertificate | None:
    """Delete the offboarded organisation's data past its return period (resuming a run under
    way) and certify it; None when nothing is due."""
    certificate_id = _start(runtime, organisation_id, now or utcnow())
    if certificate_id is None:
        return None
    deleted = _delete_all(runtime, organisation_id, certificate_id, batch)
    return _finish(runtime, organisation_id, certificate_id, everything_held=not deleted)


def organisations_due(runtime: Runtime, *, now: datetime) -> list[uuid.UUID]:
    """Offboarded organisations past their return period whose data is not deleted yet, or
    where a hold was released since the last deletion (what it kept may go now)."""
    released_since = exists(
        select(LegalHold.id).where(
            LegalHold.organisation_id == Organisation.id,
            LegalHold.released_at > Organisation.data_deleted_at,
        )
    ).correlate(Organisation)
    with cross_organisation_session(
        runtime, reason="find offboarded organisations past their return period"
    ) as session:
        return list(
            session.scalars(
                select(Organisation.id)
                .where(
                    Organisation.status == OrganisationStatus.offboarded,
                    Organisation.data_return_until <= now,
                    or_(Organisation.data_deleted_at.is_(None), released_since),
                )
                .order_by(Organisation.id)
            )
        )


def delete_due_organisations(runtime: Runtime, *, now: datetime | None = None) -> int:
    """Delete the data of every organisation due; how many were certified."""
    now = now or utcnow()
    certified = 0
    for organisation_id in organisations_due(runtime, now=now):
        try:
            if delete_organisation_data(runtime, organisation_id, now=now) is not None:
                certified += 1
        except Exception:
            # One organisation's failure must not hold back the others; the next scan resumes.
            log.exception("offboarding deletion failed", organisation_id=str(organisation_id))
    return certified


@periodic_job(SCAN_NAME, minute="37")
def scan_for_offboarded_organisations(runtime: Runtime) -> None:
    """Every hour: delete the data of offboarded organisations past their return period."""
    delete_due_organisations(runtime)
