"""Entitlements: which accounts may use which products, and since and until when.

Each grant opens a period; revoking it, or disabling or deleting the account, ends it. Ended
periods stay as the account's history. Periods ended by the account's lifecycle (not revoked)
are reopened, as new periods, when the account becomes active again.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..db.base import new_id, utcnow
from ..db.tenancy import require_organisation
from ..errors import AlreadyExists, NotFound, ValidationFailed
from ..products.models import (
    LIFECYCLE_END_REASONS,
    PRODUCT_CODE,
    EndReason,
    Entitlement,
    Product,
)
from .actions import AccountAction
from .models import Account, AccountStatus
from .rules import AccountNotActive
from .service import get_account

_PRODUCT_CODE = re.compile(PRODUCT_CODE)


def _open_entitlement(session: Session, account_id: uuid.UUID, code: str) -> Entitlement | None:
    if not _PRODUCT_CODE.fullmatch(code):
        # Codes come from the path too; one that cannot exist must not reach the database.
        return None
    return session.scalar(
        select(Entitlement).where(
            Entitlement.account_id == account_id,
            Entitlement.product_code == code,
            Entitlement.ended_at.is_(None),
        )
    )


def get_active_entitlement(
    session: Session, *, account_id: uuid.UUID, product_code: str
) -> Entitlement:
    """The account's open entitlement to a product."""
    get_account(session, account_id=account_id)
    entitlement = _open_entitlement(session, account_id, product_code)
    if entitlement is None:
        raise NotFound("the account has no active entitlement to this product")
    return entitlement


def list_entitlements(
    session: Session,
    *,
    account_id: uuid.UUID,
    active: bool | None,
    limit: int,
    cursor: str | None,
) -> Page[Entitlement]:
    """The account's entitlements, open and ended, oldest first."""
    get_account(session, account_id=account_id)
    query = select(Entitlement).where(Entitlement.account_id == account_id)
    if active is True:
        query = query.where(Entitlement.ended_at.is_(None))
    elif active is False:
        query = query.where(Entitlement.ended_at.is_not(None))
    return paginate(session, query, keys=[Entitlement.id], limit=limit, cursor=cursor)


def grant_entitlement(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID, product_code: str
) -> Entitlement:
    """Let an active account use a product of the catalogue."""
    account = get_account(session, account_id=account_id)
    if account.status is not AccountStatus.active:
        raise AccountNotActive(
            f"the account is {account.status.value}; only active accounts get products"
        )
    if session.get(Product, product_code) is None:
        raise ValidationFailed(
            "no such product", errors={"product_code": ["not a product of /v1/products"]}
        )
    if _open_entitlement(session, account_id, product_code) is not None:
        raise AlreadyExists("the account already has this product", extra={"field": "product_code"})
    entitlement = Entitlement(account_id=account_id, product_code=product_code)
    session.add(entitlement)
    session.flush()
    record_event(
        session,
        ctx,
        action=AccountAction.EntitlementGrant,
        target_type="account",
        target_id=account_id,
        details={"product_code": product_code, "entitlement_id": str(entitlement.id)},
    )
    return entitlement


def revoke_entitlement(
    session: Session, ctx: RequestContext, *, account_id: uuid.UUID, product_code: str
) -> None:
    """End the account's use of a product; it does not come back with the account."""
    entitlement = get_active_entitlement(session, account_id=account_id, product_code=product_code)
    entitlement.ended_at = utcnow()
    entitlement.end_reason = EndReason.revoked
    session.flush()
    record_event(
        session,
        ctx,
        action=AccountAction.EntitlementRevoke,
        target_type="account",
        target_id=account_id,
        details={"product_code": product_code, "entitlement_id": str(entitlement.id)},
    )


def end_entitlements(
    session: Session, account: Account, *, reason: EndReason, at: datetime
) -> list[str]:
    """End every open entitlement of the account (it was disabled or deleted); their codes."""
    ended = list(
        session.scalars(
            select(Entitlement)
            .where(Entitlement.account_id == account.id, Entitlement.ended_at.is_(None))
            .order_by(Entitlement.product_code)
        )
    )
    for entitlement in ended:
        entitlement.ended_at = at
        entitlement.end_reason = reason
    return [e.product_code for e in ended]


def reinstate_entitlements(session: Session, account: Account, *, at: datetime) -> list[str]:
    """Reopen the products the account lost through its lifecycle; their codes.

    A product comes back when its latest period ended because the account was disabled or
    deleted, not when an administrator revoked it.
    """
    latest: dict[str, Entitlement] = {}
    history = session.scalars(
        select(Entitlement)
        .where(Entitlement.account_id == account.id)
        .order_by(Entitlement.granted_at, Entitlement.id)
    )
    for entitlement in history:
        latest[entitlement.product_code] = entitlement
    codes = sorted(
        code
        for code, entitlement in latest.items()
        if entitlement.end_reason in LIFECYCLE_END_REASONS
    )
    session.add_all(
        Entitlement(account_id=account.id, product_code=code, granted_at=at) for code in codes
    )
    return codes


def end_entitlements_of(
    session: Session, account_ids: Collection[uuid.UUID], *, reason: EndReason, at: datetime
) -> dict[uuid.UUID, list[str]]:
    """end_entitlements for many accounts in two statements (bulk work); codes per account."""
    if not account_ids:
        return {}
    ids = list(account_ids)
    open_periods = Entitlement.account_id.in_(ids), Entitlement.ended_at.is_(None)
    ended: dict[uuid.UUID, list[str]] = defaultdict(list)
    rows = session.execute(
        select(Entitlement.account_id, Entitlement.product_code)
        .where(*open_periods)
        .order_by(Entitlement.account_id, Entitlement.product_code)
    )
    for account_id, code in rows:
        ended[account_id].append(code)
    if ended:
        session.execute(
            update(Entitlement)
            .where(*open_periods)
            .values(ended_at=at, end_reason=reason)
            .execution_options(synchronize_session=False)
        )
    return dict(ended)


def reinstate_entitlements_of(
    session: Session, account_ids: Collection[uuid.UUID], *, at: datetime
) -> dict[uuid.UUID, list[str]]:
    """reinstate_entitlements for many accounts: one read, one bulk insert; codes per account."""
    if not account_ids:
        return {}
    latest: dict[tuple[uuid.UUID, str], EndReason | None] = {}
    history = session.execute(
        select(Entitlement.account_id, Entitlement.product_code, Entitlement.end_reason)
        .where(Entitlement.account_id.in_(list(account_ids)))
        .order_by(Entitlement.granted_at, Entitlement.id)
    )
    for account_id, code, end_reason in history:
        latest[(account_id, code)] = end_reason
    back = sorted(key for key, reason in latest.items() if reason in LIFECYCLE_END_REASONS)
    reinstated: dict[uuid.UUID, list[str]] = defaultdict(list)
    for account_id, code in back:
        reinstated[account_id].append(code)
    if back:
        organisation_id = require_organisation(session)
        session.execute(
            insert(Entitlement),
            [
                {
                    "organisation_id": organisation_id,
                    "id": new_id(),
                    "account_id": account_id,
                    "product_code": code,
                    "granted_at": at,
                }
                for account_id, code in back
            ],
        )
    return dict(reinstated)
