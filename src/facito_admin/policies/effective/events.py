"""Residency after a policy change: rechecked, and reported when the regions break the policy.

The report records the audit event and publishes the webhook event
(`organisation.residency_invalid`) in the caller's transaction: one place for the event, so
every caller (a contract change, a statement notice) reports the same way.
"""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from ...audit.service import record_event
from ...auth.context import RequestContext
from ...tenants.models import Organisation
from ...webhooks.events import WebhookEventType, publish_event
from ..actions import PolicyAction
from .service import ResidencyState, residency_state

log = structlog.get_logger("facito_admin.policies")


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
        action=PolicyAction.ResidencyInvalid,
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
