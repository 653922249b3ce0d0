"""What the outside world hears about policy changes: one function per event.

Each records the audit event and publishes the webhook event (`policy.contract_changed`,
`organisation.residency_invalid`) in the caller's transaction: one place per event, so every
caller announces the same way.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.orm import Session

from ..audit.actions import AuditAction
from ..audit.service import record_event
from ..auth.context import RequestContext
from ..contracts.models import Contract
from ..organisations.models import Organisation
from ..webhooks.events import WebhookEventType, publish_event
from .effective import ResidencyState, residency_state

log = structlog.get_logger("facito_admin.policies")


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
    action: AuditAction,
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


def report_residency_invalid(
    session: Session,
    ctx: RequestContext,
    *,
    organisation: Organisation,
    state: ResidencyState,
    cause: str,
) -> None:
    """Tell that the organisation's regions break its effective policy (now or from a known
    instant): the change was accepted, so the organisation must move its data."""
    problems = [
        {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in problem.items()}
        for problem in state.problems()
    ]
    log.warning(
        "residency invalid",
        organisation_id=str(organisation.id),
        status=state.status,
        cause=cause,
        problems=len(problems),
    )
    record_event(
        session,
        ctx,
        action=AuditAction.ResidencyInvalid,
        target_type="organisation",
        target_id=organisation.id,
        details={
            "status": state.status,
            "cause": cause,
            "primary_region": organisation.primary_region,
            "backup_region": organisation.backup_region,
            "problems": problems,
        },
    )
    publish_event(
        session,
        organisation_id=organisation.id,
        event_type=WebhookEventType.OrganisationResidencyInvalid,
        data={
            "status": state.status,
            "cause": cause,
            "primary_region": organisation.primary_region,
            "backup_region": organisation.backup_region,
            "problems": problems,
        },
    )


def recheck_residency(
    session: Session, ctx: RequestContext, *, organisation: Organisation, cause: str
) -> ResidencyState:
    """After a policy change (contract or statement version): check the organisation's
    regions against its policy from now on, and report them when they break it."""
    state = residency_state(
        session,
        primary_region=organisation.primary_region,
        backup_region=organisation.backup_region,
    )
    if state.status != "valid":
        report_residency_invalid(session, ctx, organisation=organisation, state=state, cause=cause)
    return state
