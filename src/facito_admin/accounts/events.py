"""The webhook events of accounts, published in the transaction of the change they report.

Every path that changes an account publishes here: REST and SCIM through service.py and
lifecycle.py, directory sync in bulk (directory_sync/apply.py). The data names the account by
id with its status and source, and for an update the names of the changed fields: like the
audit log, never their values (the organisation reads those at GET …/accounts/{id}), never a
secret. `account.purged` is published by the retention domain.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..db.tenancy import require_organisation
from ..webhooks.events import WebhookEventType, publish_events
from .actions import AccountAction
from .models import Account, AccountSource, AccountStatus

# The audit action of each change and the webhook event that reports it.
EVENT_OF_ACTION: dict[AccountAction, WebhookEventType] = {
    AccountAction.AccountCreate: WebhookEventType.AccountCreated,
    AccountAction.AccountUpdate: WebhookEventType.AccountUpdated,
    AccountAction.AccountDisable: WebhookEventType.AccountDisabled,
    AccountAction.AccountEnable: WebhookEventType.AccountEnabled,
    AccountAction.AccountDelete: WebhookEventType.AccountDeleted,
    AccountAction.AccountRestore: WebhookEventType.AccountRestored,
}

AccountEvent = tuple[WebhookEventType, dict[str, Any]]


def account_event(
    action: AccountAction,
    *,
    account_id: uuid.UUID,
    status: AccountStatus,
    source: AccountSource,
    fields: Iterable[str] = (),
    purge_after: datetime | None = None,
) -> AccountEvent:
    """The webhook event (type and data) of one account change."""
    data: dict[str, Any] = {
        "account_id": str(account_id),
        "status": AccountStatus(status).value,
        "source": AccountSource(source).value,
    }
    if action is AccountAction.AccountUpdate:
        data["fields"] = sorted(fields)
    if purge_after is not None:
        data["purge_after"] = purge_after.isoformat().replace("+00:00", "Z")
    return EVENT_OF_ACTION[action], data


def publish_account_events(session: Session, events: Iterable[AccountEvent]) -> int:
    """Publish account events of the session's organisation; how many deliveries were made."""
    return publish_events(session, organisation_id=require_organisation(session), events=events)


def publish_account_change(
    session: Session, account: Account, action: AccountAction, *, fields: Iterable[str] = ()
) -> None:
    """Publish the webhook event of one change of ``account`` (its state after the change)."""
    event = account_event(
        action,
        account_id=account.id,
        status=account.status,
        source=account.source,
        fields=fields,
        purge_after=account.purge_after if action is AccountAction.AccountDelete else None,
    )
    publish_account_events(session, [event])
