"""Legal holds: place, release, read and list them (GDPR art. 17(3)(b),(e)).

A hold keeps data that a legal obligation or a legal claim needs, whatever the retention says:
while unreleased, the retention run (runs.py) and the account purge (account_purge.py) leave
alone everything it covers. Releasing is the only change; a hold is never deleted, so its
history stays the record of why data was kept.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Account
from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..db.tenancy import require_organisation
from ..errors import InvalidState, NotFound, ValidationFailed
from ..policies.categories import CATEGORIES
from ..webhooks.events import WebhookEventType, publish_event
from .actions import RetentionAction
from .models import LegalHold, LegalHoldScope


class LegalHoldReleased(InvalidState):
    code, title = "legal-hold-released", "The legal hold is already released"


def _actor(ctx: RequestContext) -> tuple[str, str]:
    principal = ctx.principal
    return principal.client_key[:200], principal.display_name[:200]


def hold_data(hold: LegalHold) -> dict[str, object]:
    """What a webhook says about a hold (ids and scope; no reason text leaves by webhook)."""
    return {
        "legal_hold_id": str(hold.id),
        "scope": hold.scope.value,
        "account_id": None if hold.account_id is None else str(hold.account_id),
        "category": hold.category,
    }


def place_legal_hold(
    session: Session,
    ctx: RequestContext,
    *,
    account_id: uuid.UUID | None,
    category: str | None,
    reason: str,
    reference: str | None,
) -> LegalHold:
    """Place a hold on the organisation, one account, or one account's data of one category."""
    if category is not None and account_id is None:
        raise ValidationFailed(
            "a category is held for one account: name the account",
            errors={"account_id": ["Required with a category."]},
        )
    if category is not None and category not in CATEGORIES:
        raise ValidationFailed("not a data category", errors={"category": ["Not a data category."]})
    # Another organisation's account looks like one that does not exist (tenant-scoped read).
    if (
        account_id is not None
        and session.get(Account, (require_organisation(session), account_id)) is None
    ):
        raise ValidationFailed("no such account", errors={"account_id": ["No such account."]})
    scope = (
        LegalHoldScope.organisation
        if account_id is None
        else LegalHoldScope.account
        if category is None
        else LegalHoldScope.account_category
    )
    created_by_id, created_by_display = _actor(ctx)
    hold = LegalHold(
        scope=scope,
        account_id=account_id,
        category=category,
        reason=reason,
        reference=reference,
        created_by_id=created_by_id,
        created_by_display=created_by_display,
    )
    session.add(hold)
    session.flush()
    record_event(
        session,
        ctx,
        action=RetentionAction.LegalHoldPlace,
        target_type="legal_hold",
        target_id=hold.id,
        details=hold_data(hold) | {"reference": reference},
    )
    publish_event(
        session,
        organisation_id=hold.organisation_id,
        event_type=WebhookEventType.LegalHoldPlaced,
        data=hold_data(hold),
    )
    return hold


def get_legal_hold(session: Session, *, hold_id: uuid.UUID) -> LegalHold:
    """One of the organisation's legal holds, or 404."""
    hold = session.get(LegalHold, (require_organisation(session), hold_id))
    if hold is None:
        raise NotFound("no such legal hold")
    return hold


def release_legal_hold(
    session: Session, ctx: RequestContext, *, hold_id: uuid.UUID, reason: str
) -> LegalHold:
    """Release a hold: what it kept follows the retention again from the next run."""
    # Locked: two releases at once record one event, and a running purge step sees either.
    hold = session.scalars(
        select(LegalHold)
        .where(LegalHold.id == hold_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if hold is None:
        raise NotFound("no such legal hold")
    if hold.released_at is not None:
        raise LegalHoldReleased("the legal hold is already released")
    hold.released_at = utcnow()
    hold.released_by_id, hold.released_by_display = _actor(ctx)
    hold.release_reason = reason
    session.flush()
    record_event(
        session,
        ctx,
        action=RetentionAction.LegalHoldRelease,
        target_type="legal_hold",
        target_id=hold.id,
        details=hold_data(hold),
    )
    publish_event(
        session,
        organisation_id=hold.organisation_id,
        event_type=WebhookEventType.LegalHoldReleased,
        data=hold_data(hold),
    )
    return hold


def list_legal_holds(
    session: Session,
    *,
    active: bool | None,
    account_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[LegalHold]:
    """The organisation's legal holds, newest first; filters: active or released, account."""
    query = select(LegalHold)
    if active is not None:
        query = query.where(
            LegalHold.released_at.is_(None) if active else LegalHold.released_at.is_not(None)
        )
    if account_id is not None:
        query = query.where(LegalHold.account_id == account_id)
    return paginate(
        session, query, keys=[LegalHold.id], limit=limit, cursor=cursor, descending=True
    )
