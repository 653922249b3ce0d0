"""What the outside world hears about a contract change: its audit event and webhook event.

One function, so every change (create, update, terminate, delete) is announced the same way
(`policy.contract_changed`), in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ...audit.service import record_event
from ...auth.context import RequestContext
from ...webhooks.events import WebhookEventType, publish_event
from ..actions import PolicyAction
from ..models import Contract


def contract_summary(contract: Contract) -> dict[str, Any]:
    """What an event says about a contract: ids, validity, products and overridden keys."""
    return {
        "reference": contract.reference,
        "effective_from": contract.effective_from.isoformat(),
        "effective_to": contract.effective_to.isoformat() if contract.effective_to else None,
        "products": dict(sorted(contract.products.items())),
        "overrides": dict(sorted(contract.overrides.items())),
    }


def announce_contract_change(
    session: Session,
    ctx: RequestContext,
    *,
    contract: Contract,
    action: PolicyAction,
    details: dict[str, Any] | None = None,
) -> None:
    """Record a contract change (create, update, terminate, delete) for the organisation."""
    record_event(
        session,
        ctx,
        action=action,
        target_type="contract",
        target_id=contract.id,
        details={"contract": contract_summary(contract), **(details or {})},
    )
    publish_event(
        session,
        organisation_id=contract.organisation_id,
        event_type=WebhookEventType.PolicyContractChanged,
        data={
            "action": action.value.rsplit(":", 1)[-1],
            "contract_id": str(contract.id),
            **contract_summary(contract),
        },
    )
