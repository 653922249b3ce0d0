"""The hard purge of deleted accounts past their grace period, honouring legal holds.

It lives here, not in accounts, because it needs what accounts must not import: legal holds
(an account under any active hold is never purged, GDPR art. 17(3)(b),(e)) and the rows other
domains link to an account (data records, preference changes, guardian consents), which go
first. A periodic scan enqueues one `account-purge` job per organisation with accounts due,
unless one is queued or running; each step purges a batch with its linked rows, publishes
`account.purged` per account, and commits its counts with the checkpoint. The job ends with one
deletion certificate (kind account_purge) when it purged anything.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from ..accounts.lifecycle import PURGE_BATCH, purge_due_accounts
from ..accounts.models import Account, AccountStatus
from ..consents.models import GuardianConsent, PreferenceChange
from ..db.base import utcnow
from ..db.session import cross_organisation_session
from ..jobs import (
    JobContext,
    enqueue_once_per_organisation,
    job_handler,
    periodic_job,
)
from ..runtime import Runtime
from ..user_data.models import DataRecord
from ..webhooks.events import WebhookEventType, publish_event
from .certificates import write_certificate
from .models import DeletionKind, LegalHold
from .selection import load_schedule, organisation_holds

PURGE_KIND = "account-purge"
SCAN_NAME = "account-purge-scan"


def _due(now: datetime) -> Any:
    return (Account.status == AccountStatus.deleted, Account.purge_after <= now)


def _account_held() -> Any:
    """An active hold names the account (alone or with a category: either keeps it whole)."""
    return exists(
        select(LegalHold.id).where(
            LegalHold.released_at.is_(None), LegalHold.account_id == Account.id
        )
    ).correlate(Account)


def purgeable_accounts(session: Session, *, now: datetime, limit: int) -> list[uuid.UUID]:
    """Up to ``limit`` due accounts that no legal hold keeps, the longest due first."""
    if organisation_holds(session):
        return []
    return list(
        session.scalars(
            select(Account.id)
            .where(*_due(now), ~_account_held())
            .order_by(Account.purge_after, Account.id)
            .limit(limit)
        )
    )


def _delete_linked(session: Session, ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    """Remove the rows other domains link to these accounts (their foreign keys need it)."""
    categories = Counter(
        category
        for (category,) in session.execute(
            delete(DataRecord)
            .where(DataRecord.account_id.in_(ids))
            .returning(DataRecord.category)
            .execution_options(synchronize_session=False)
        )
    )
    counts: dict[str, Any] = {"data_records": dict(categories)}
    for name, model in (
        ("preference_changes", PreferenceChange),
        ("guardian_consents", GuardianConsent),
    ):
        result: Any = session.execute(
            delete(model)
            .where(model.account_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        counts[name] = int(result.rowcount)
    return counts


def _add(total: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    records = Counter(total.get("data_records", {})) + Counter(step["data_records"])
    return {
        "accounts": total.get("accounts", 0) + step["accounts"],
        "data_records": dict(sorted(records.items())),
        "preference_changes": total.get("preference_changes", 0) + step["preference_changes"],
        "guardian_consents": total.get("guardian_consents", 0) + step["guardian_consents"],
    }


def _removed_total(removed: dict[str, Any]) -> int:
    records: dict[str, int] = removed.get("data_records", {})
    return (
        int(removed.get("accounts", 0))
        + sum(records.values())
        + int(removed.get("preference_changes", 0))
        + int(removed.get("guardian_consents", 0))
    )


def _kept(session: Session, now: datetime) -> dict[str, Any]:
    """Due accounts that holds keep: how many, and per hold how many it keeps."""
    org_holds = organisation_holds(session)
    due = session.scalar(select(func.count()).select_from(Account).where(*_due(now))) or 0
    if org_holds:
        return {"total": due, "accounts": due, "holds": {str(h): due for h in org_holds}}
    rows = session.execute(
        select(LegalHold.id, func.count(func.distinct(Account.id)))
        .select_from(Account)
        .join(LegalHold, LegalHold.account_id == Account.id)
        .where(*_due(now), LegalHold.released_at.is_(None))
        .group_by(LegalHold.id)
    ).all()
    held = session.scalar(
        select(func.count()).select_from(Account).where(*_due(now), _account_held())
    )
    return {"total": held or 0, "accounts": held or 0, "holds": {str(h): n for h, n in rows}}


@job_handler(PURGE_KIND)
def purge_accounts(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Purge the organisation's due accounts that no hold keeps, with their linked data."""
    checkpoint = ctx.checkpoint or {}
    started_at = datetime.fromisoformat(checkpoint["started_at"]) if checkpoint else utcnow()
    removed: dict[str, Any] = dict(checkpoint.get("removed", {}))
    while True:
        ctx.raise_if_cancelled()
        now = utcnow()
        ids = purgeable_accounts(session, now=now, limit=PURGE_BATCH)
        if ids:
            step = _delete_linked(session, ids)
            step["accounts"] = purge_due_accounts(
                session, ctx.request, now=now, limit=len(ids), account_ids=ids
            )
            for account_id in ids:
                publish_event(
                    session,
                    organisation_id=ctx.organisation_id,
                    event_type=WebhookEventType.AccountPurged,
                    data={"account_id": str(account_id)},
                )
            removed = _add(removed, step)
            ctx.commit_step(
                checkpoint={"started_at": started_at.isoformat(), "removed": removed},
                done=removed["accounts"],
            )
        if len(ids) < PURGE_BATCH:
            break
    purged = int(removed.get("accounts", 0))
    result: dict[str, Any] = {"purged": purged, "deletion_certificate_id": None}
    if purged:
        policy = load_schedule(session, at=started_at)
        certificate = write_certificate(
            session,
            ctx.request,
            kind=DeletionKind.account_purge,
            job_id=ctx.job_id,
            started_at=started_at,
            policy=policy,
            removed=removed,
            removed_total=_removed_total(removed),
            kept_by_holds=_kept(session, utcnow()),
            # Each account's purge time was set from this value when it was deleted.
            basis={"deleted_items_days": policy.schedule.basis()["deleted_items_days"]},
        )
        result["deletion_certificate_id"] = str(certificate.id)
    return result


def organisations_with_accounts_due(runtime: Runtime) -> list[Any]:
    """Ids of the organisations that have accounts past their grace period now."""
    with cross_organisation_session(
        runtime, reason="find organisations with deleted accounts past their grace period"
    ) as session:
        return list(
            session.scalars(select(Account.organisation_id).where(*_due(utcnow())).distinct())
        )


def enqueue_due_purges(runtime: Runtime) -> int:
    """One purge job per organisation with accounts due and no purge already under way."""
    return enqueue_once_per_organisation(
        runtime, organisations_with_accounts_due(runtime), kind=PURGE_KIND, scan=SCAN_NAME
    )


@periodic_job(SCAN_NAME, minute="*/15")
def scan_for_due_purges(runtime: Runtime) -> None:
    """Every quarter hour: enqueue the purges that are due."""
    enqueue_due_purges(runtime)
