"""The account lifecycle: active ⇄ disabled → deleted (grace period) → restored or purged.

Product access follows the account at once: disabling or deleting it ends its entitlements,
and an account that becomes active again gets back the products it lost that way (not those an
administrator revoked). This mirrors Entra ID and Microsoft 365, where blocking or deleting a
user keeps its licence assignments and unblocking or restoring it gives the same access back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import SYSTEM_PRINCIPAL, RequestContext
from ..common.conditional import ANY, IfMatch
from ..db.base import utcnow
from ..errors import InvalidState
from ..policies.effective.defaults import PolicyKey, policy_value
from ..products.models import EndReason, Entitlement
from . import rules
from .actions import AccountAction
from .entitlements import end_entitlements, reinstate_entitlements
from .events import publish_account_change
from .models import Account, AccountStatus
from .service import check_unique, get_account, require_activation_allowed

PURGE_BATCH = 500


def _set_status(account: Account, status: AccountStatus, at: datetime) -> AccountStatus:
    previous = account.status
    account.status = status
    account.status_changed_at = at
    return previous


def disable_account(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID, if_match: IfMatch = ANY
) -> Account:
    """Disable an active account; its product access ends at once."""
    account = get_account(session, account_id=account_id)
    if_match.check(account.id, account.version)
    if account.status is not AccountStatus.active:
        raise InvalidState(f"the account is {account.status.value}, not active")
    now = utcnow()
    ended = end_entitlements(session, account, reason=EndReason.account_disabled, at=now)
    _set_status(account, AccountStatus.disabled, now)
    session.flush()
    record_event(
        session,
        ctx,
        action=AccountAction.AccountDisable,
        target_type="account",
        target_id=account.id,
        details={"ended_entitlements": ended},
    )
    publish_account_change(session, account, AccountAction.AccountDisable)
    return account


def enable_account(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID, if_match: IfMatch = ANY
) -> Account:
    """Enable a disabled account; the products it lost by being disabled come back."""
    account = get_account(session, account_id=account_id)
    if_match.check(account.id, account.version)
    if account.status is AccountStatus.deleted:
        raise InvalidState("the account is deleted; restore it instead")
    if account.status is not AccountStatus.disabled:
        raise InvalidState("the account is already active")
    require_activation_allowed(account)
    now = utcnow()
    reinstated = reinstate_entitlements(session, account, at=now)
    _set_status(account, AccountStatus.active, now)
    session.flush()
    record_event(
        session,
        ctx,
        action=AccountAction.AccountEnable,
        target_type="account",
        target_id=account.id,
        details={"reinstated_entitlements": reinstated},
    )
    publish_account_change(session, account, AccountAction.AccountEnable)
    return account


def delete_account(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID, if_match: IfMatch
) -> Account:
    """Soft-delete an account: product access ends, and it is purged after the grace period."""
    account = get_account(session, account_id=account_id)
    if_match.check(account.id, account.version)
    if account.status is AccountStatus.deleted:
        raise InvalidState("the account is already deleted")
    now = utcnow()
    ended = end_entitlements(session, account, reason=EndReason.account_deleted, at=now)
    account.deleted_from_status = _set_status(account, AccountStatus.deleted, now)
    account.deleted_at = now
    retention_days = policy_value(session, PolicyKey.RetentionDeletedItemsDays)
    account.purge_after = rules.purge_after(now, retention_days)
    session.flush()
    record_event(
        session,
        ctx,
        action=AccountAction.AccountDelete,
        target_type="account",
        target_id=account.id,
        details={
            "purge_after": account.purge_after.isoformat(),
            "ended_entitlements": ended,
        },
    )
    publish_account_change(session, account, AccountAction.AccountDelete)
    return account


def restore_account(session: Session, ctx: RequestContext, *, account_id: uuid.UUID) -> Account:
    """Bring a deleted account back, inside the grace period, to the status it had."""
    account = get_account(session, account_id=account_id)
    if account.status is not AccountStatus.deleted:
        raise InvalidState(f"the account is {account.status.value}, not deleted")
    now = utcnow()
    if account.purge_after is None or now >= account.purge_after:
        raise rules.GracePeriodOver(
            "the grace period is over; the account is about to be removed for good"
        )
    # Its UPN and e-mail were free for others while it was deleted.
    check_unique(
        session,
        {"user_principal_name": account.user_principal_name, "email": account.email},
        exclude=account.id,
    )
    target = account.deleted_from_status or AccountStatus.active
    reinstated: list[str] = []
    if target is AccountStatus.active:
        require_activation_allowed(account)
        reinstated = reinstate_entitlements(session, account, at=now)
    _set_status(account, target, now)
    account.deleted_at = account.purge_after = account.deleted_from_status = None
    session.flush()
    record_event(
        session,
        ctx,
        action=AccountAction.AccountRestore,
        target_type="account",
        target_id=account.id,
        details={"status": target.value, "reinstated_entitlements": reinstated},
    )
    publish_account_change(session, account, AccountAction.AccountRestore)
    return account


def purge_due_accounts(
    session: Session,
    ctx: RequestContext | None = None,
    *,
    now: datetime,
    limit: int = PURGE_BATCH,
    account_ids: Sequence[uuid.UUID] | None = None,
) -> int:
    """Remove for good up to ``limit`` accounts whose grace period has passed; how many.

    Each purged account gets one audit event; its entitlements go with it and its reports
    lose their manager. ``account_ids`` narrows the choice to those accounts (still only the
    due ones): the account purge job (retention/account_purge.py) picks the accounts no legal
    hold keeps and removes their linked data first, which this package must not know about.
    """
    ctx = ctx or RequestContext(principal=SYSTEM_PRINCIPAL)
    query = select(Account.id, Account.deleted_at, Account.purge_after).where(
        Account.status == AccountStatus.deleted, Account.purge_after <= now
    )
    if account_ids is not None:
        query = query.where(Account.id.in_(account_ids))
    due = session.execute(query.order_by(Account.purge_after, Account.id).limit(limit)).all()
    if not due:
        return 0
    ids = [row.id for row in due]
    session.execute(
        update(Account)
        .where(Account.manager_id.in_(ids))
        .values(manager_id=None, version=Account.version + 1, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        delete(Entitlement)
        .where(Entitlement.account_id.in_(ids))
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        delete(Account).where(Account.id.in_(ids)).execution_options(synchronize_session="fetch")
    )
    for row in due:
        record_event(
            session,
            ctx,
            action=AccountAction.AccountPurge,
            target_type="account",
            target_id=row.id,
            details={
                "deleted_at": row.deleted_at.isoformat(),
                "purge_after": row.purge_after.isoformat(),
            },
        )
    return len(due)
