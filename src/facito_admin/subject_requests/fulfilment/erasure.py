"""Erasure (GDPR art. 17): the subject's linked data and profile go the retention path.

Three steps, each committed with its checkpoint (a retry redoes only the one that did not):

1. records: soft-delete the subject's live records (only the request's categories and
   products when it names any), except what a legal hold or statutory retention keeps; the
   retention run purges them `retention.deleted_items_days` later (retention/runs.py).
2. account: unless the request names categories or products, soft-delete the account
   (accounts.lifecycle.delete_account): product access ends, and the account purge removes it,
   its preference history and guardian consents after the grace period, but not while a hold
   names it (retention/account_purge.py). Records kept by statutory retention need their
   account: its ``purge_after`` moves to the end of their retention.
3. certificate: a deletion certificate (kind erasure) with what was removed per category and
   what was kept with its legal ground; the results link it, `dsr.erased` tells the
   organisation's systems (art. 19).

Kept, and why (art. 17(3)):
- legal holds, for legal claims (art. 17(3)(e)), matched as retention/selection.py matches
  them: an organisation-wide hold keeps everything, an account hold the account's data, an
  account+category hold that category of it;
- statutory retention, for a legal obligation (art. 17(3)(b)): the categories the catalogue
  uses for the purpose legal_obligation (policies/categories.py: payment data for
  bookkeeping; age and guardian consent, preferences and consents as proof of consent,
  art. 7(1) and 8), each until its own retention ends (retention/schedule.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from ...accounts.lifecycle import delete_account
from ...accounts.models import Account, AccountStatus
from ...common.conditional import ANY
from ...db.base import utcnow
from ...jobs import JobContext, job_handler
from ...policies.categories import CATEGORIES, Purpose
from ...retention.certificates import write_certificate
from ...retention.models import DeletionKind, LegalHold, LegalHoldScope
from ...retention.selection import PolicyBasis, due_clause, held_clause, load_schedule
from ...user_data.models import DataRecord
from ...user_data.service import soft_delete_records
from ...webhooks.events import WebhookEventType
from ..actions import RequestAction
from ..models import RequestKind, SubjectRequest
from ..service import FULFILMENT_JOBS
from .base import account_of, finish, load_request, refusals, tell_integrations

STATUTORY_CATEGORIES = frozenset(
    key for key, category in CATEGORIES.items() if Purpose.LegalObligation in category.purposes
)
HOLD_GROUND = "GDPR art. 17(3)(e): kept under a legal hold (legal claims)"
STATUTORY_GROUND = (
    "GDPR art. 17(3)(b): kept for a legal obligation (bookkeeping, proof of consent) until "
    "its retention ends"
)
STEPS = 3


def _limited(request: SubjectRequest) -> bool:
    """The request names categories or products: only those go, the account stays."""
    return bool(request.scope.get("categories") or request.scope.get("products"))


def _requested(request: SubjectRequest) -> list[ColumnElement[bool]]:
    """The records the request covers: all, or those of its categories and products."""
    where: list[ColumnElement[bool]] = []
    if request.scope.get("categories"):
        where.append(DataRecord.category.in_(request.scope["categories"]))
    if request.scope.get("products"):
        where.append(DataRecord.product.in_(request.scope["products"]))
    return where


def _holds(session: Session, account_id: uuid.UUID) -> list[LegalHold]:
    """The active holds that reach the subject: the organisation's, and those naming them."""
    return list(
        session.scalars(
            select(LegalHold)
            .where(
                LegalHold.released_at.is_(None),
                or_(
                    LegalHold.scope == LegalHoldScope.organisation,
                    LegalHold.account_id == account_id,
                ),
            )
            .order_by(LegalHold.id)
        )
    )


def _statutory(policy: PolicyBasis) -> ColumnElement[bool]:
    """Records of a statutory category whose retention has not ended at the policy's instant
    (not schedule.is_due)."""
    terms = [
        and_(DataRecord.category == cutoff.category, ~due_clause(cutoff))
        for cutoff in policy.schedule.cutoffs(policy.at)
        if cutoff.category in STATUTORY_CATEGORIES
    ]
    return or_(*terms) if terms else false()


def _count(session: Session, where: list[ColumnElement[bool]]) -> dict[str, int]:
    rows = session.execute(
        select(DataRecord.category, func.count()).where(*where).group_by(DataRecord.category)
    ).all()
    return {category: int(count) for category, count in sorted(rows)}


def _hold_entry(
    session: Session, hold: LegalHold, scope: list[ColumnElement[bool]]
) -> dict[str, Any]:
    where = list(scope)
    if hold.scope is LegalHoldScope.account_category:
        where.append(DataRecord.category == hold.category)
    records = sum(_count(session, where).values())
    return {
        "ground": "legal_hold",
        "legal_basis": HOLD_GROUND,
        "legal_hold_id": str(hold.id),
        "scope": hold.scope.value,
        "category": hold.category,
        "reference": hold.reference,
        "reason": hold.reason,
        "records": records,
    }


def _statutory_entries(
    session: Session, policy: PolicyBasis, where: list[ColumnElement[bool]]
) -> list[dict[str, Any]]:
    """Per statutory category: how many records it keeps, and until when (the latest)."""
    rows = session.execute(
        select(
            DataRecord.category,
            DataRecord.sensitive,
            func.count(),
            func.max(DataRecord.occurred_at),
        )
        .where(*where)
        .group_by(DataRecord.category, DataRecord.sensitive)
    ).all()
    records: dict[str, int] = {}
    until: dict[str, datetime] = {}
    for category, sensitive, count, newest in rows:
        records[category] = records.get(category, 0) + int(count)
        expiry = policy.schedule.expiry(category=category, occurred_at=newest, sensitive=sensitive)
        if expiry is not None and (category not in until or expiry > until[category]):
            until[category] = expiry
    return [
        {
            "ground": "statutory_retention",
            "legal_basis": STATUTORY_GROUND,
            "purpose": Purpose.LegalObligation.value,
            "category": category,
            "records": records[category],
            "until": until[category].isoformat() if category in until else None,
        }
        for category in sorted(records)
    ]


def erase_records(
    session: Session, ctx: JobContext, request: SubjectRequest, policy: PolicyBasis
) -> dict[str, Any]:
    """Step 1: soft-delete what may go; count what holds and statutory retention keep."""
    account_id = account_of(request)
    requested = _requested(request)
    scope = [DataRecord.account_id == account_id, DataRecord.deleted_at.is_(None), *requested]
    holds = _holds(session, account_id)
    organisation_held = any(h.scope is LegalHoldScope.organisation for h in holds)
    held = true() if organisation_held else held_clause()
    by_law = _statutory(policy)
    kept_by_holds = _count(session, [*scope, held])
    kept_by_law = _count(session, [*scope, ~held, by_law])
    kept = [_hold_entry(session, hold, scope) for hold in holds]
    kept += _statutory_entries(session, policy, [*scope, ~held, by_law])
    removed: dict[str, int] = {}
    if not organisation_held:
        removed = soft_delete_records(
            session, ctx.request, account_id=account_id, where=[*requested, ~held, ~by_law]
        )
    categories = {
        c: kept_by_holds.get(c, 0) + kept_by_law.get(c, 0)
        for c in sorted({*kept_by_holds, *kept_by_law})
    }
    return {"removed": removed, "kept_categories": categories, "kept": kept}


def erase_account(
    session: Session, ctx: JobContext, request: SubjectRequest, records: dict[str, Any]
) -> dict[str, Any]:
    """Step 2: soft-delete the account unless the request is limited to some of its data."""
    if _limited(request):
        return {
            "deleted": False,
            "why": "the request names categories or products: the account stays",
        }
    account_id = account_of(request)
    account = session.scalar(select(Account).where(Account.id == account_id).with_for_update())
    if account is None:  # purged meanwhile: nothing of it is left
        return {"deleted": True, "purged": True}
    deleted_now = account.status is not AccountStatus.deleted
    if deleted_now:
        with refusals():
            delete_account(session, ctx.request, account_id=account_id, if_match=ANY)
    # Records statutory retention keeps cannot outlive their account (foreign key, and the
    # account purge deletes an account's records with it): it waits until they expire.
    kept_until = [
        datetime.fromisoformat(e["until"])
        for e in records["kept"]
        if e["ground"] == "statutory_retention" and e["until"] is not None
    ]
    if kept_until and (account.purge_after is None or max(kept_until) > account.purge_after):
        account.purge_after = max(kept_until)
    held_by = [e["legal_hold_id"] for e in records["kept"] if e["ground"] == "legal_hold"]
    return {
        "deleted": True,
        "deleted_now": deleted_now,
        "purge_after": None if account.purge_after is None else account.purge_after.isoformat(),
        # The account purge leaves the account (and what is linked to it) while these last.
        "kept_from_purge_by_holds": held_by,
    }


def certify(
    session: Session,
    ctx: JobContext,
    request: SubjectRequest,
    *,
    policy: PolicyBasis,
    records: dict[str, Any],
    account: dict[str, Any],
) -> dict[str, Any]:
    """Step 3: the certificate, the request's results, its timeline, audit and webhook."""
    removed_records: dict[str, int] = records["removed"]
    accounts = 1 if account.get("deleted_now") else 0
    kept_total = sum(records["kept_categories"].values())
    certificate = write_certificate(
        session,
        ctx.request,
        kind=DeletionKind.erasure,
        job_id=ctx.job_id,
        started_at=policy.at,
        policy=policy,
        removed={"data_records": removed_records, "accounts": accounts},
        removed_total=sum(removed_records.values()) + accounts,
        kept_by_holds={
            "total": kept_total,
            "categories": records["kept_categories"],
            "holds": {
                e["legal_hold_id"]: e["records"]
                for e in records["kept"]
                if e["ground"] == "legal_hold"
            },
            # Every ground that kept something: holds (id, reference, reason), statutory
            # retention (category, until when).
            "grounds": records["kept"],
            "account": account,
        },
        basis={
            "request_id": str(request.id),
            "request_reference": request.reference,
            "article": "GDPR art. 17",
            "scope": {k: request.scope.get(k, []) for k in ("categories", "products")},
            "method": "soft-deleted now; the retention run purges the records after "
            "retention.deleted_items_days, the account purge the account after its grace "
            "period (with its preference history and guardian consents)",
            "deleted_items_days": policy.schedule.basis()["deleted_items_days"],
            "statutory_categories": sorted(STATUTORY_CATEGORIES),
        },
    )
    result = {
        "deletion_certificate_id": str(certificate.id),
        "removed": {"data_records": removed_records, "account": account},
        "kept": records["kept"],
    }
    stored = finish(
        session,
        ctx,
        request,
        action=RequestAction.Erase,
        event="erased",
        result=result,
        note={
            "deletion_certificate_id": str(certificate.id),
            "removed": removed_records,
            "kept": records["kept_categories"],
            "kept_grounds": sorted({e["ground"] for e in records["kept"] if e["records"]}),
            "account_deleted": account["deleted"],
        },
        audit={
            "deletion_certificate_id": str(certificate.id),
            "removed": removed_records,
            "kept": records["kept_categories"],
            "legal_holds": [e["legal_hold_id"] for e in records["kept"] if "legal_hold_id" in e],
            "account_deleted": account["deleted"],
            "purge_after": account.get("purge_after"),
        },
    )
    tell_integrations(
        session,
        request,
        WebhookEventType.DsrErased,
        deletion_certificate_id=str(certificate.id),
        account_deleted=account["deleted"],
        categories=sorted(removed_records),
    )
    return stored


@job_handler(FULFILMENT_JOBS[RequestKind.erasure])
def erase(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Erase the subject's data but what holds and statutory retention keep; certify it."""
    checkpoint = ctx.checkpoint or {}
    started_at = datetime.fromisoformat(checkpoint["started_at"]) if checkpoint else utcnow()
    # One instant for the whole job: what statutory retention keeps, and the certificate's.
    policy = load_schedule(session, at=started_at)
    request = load_request(session, ctx)
    records = checkpoint.get("records")
    if records is None:
        records = erase_records(session, ctx, request, policy)
        checkpoint = {"started_at": started_at.isoformat(), "records": records}
        ctx.commit_step(checkpoint=checkpoint, done=1, total=STEPS)
        request = load_request(session, ctx)
    account = checkpoint.get("account")
    if account is None:
        account = erase_account(session, ctx, request, records)
        checkpoint = checkpoint | {"account": account}
        ctx.commit_step(checkpoint=checkpoint, done=2, total=STEPS)
        request = load_request(session, ctx)
    ctx.progress(STEPS, STEPS)
    return certify(session, ctx, request, policy=policy, records=records, account=account)
