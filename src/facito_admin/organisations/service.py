"""Onboarding and lifecycle of organisations (operators), and their residency."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.service import record_event, start_chain
from ..auth.context import RequestContext
from ..common.conditional import IfMatch
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..db.session import bind_organisation
from ..errors import AlreadyExists, InvalidState, ValidationFailed
from ..policies.effective.service import effective_policy, residency_state
from ..policies.parameters import STATEMENT_2019_VALUES
from ..policies.regions import region
from ..tenants.lookups import get_organisation
from ..tenants.models import Organisation, OrganisationStatus
from .actions import OrganisationAction

RETURN_DAYS = "offboarding.return_days"
DEFAULT_RETURN_DAYS = STATEMENT_2019_VALUES[RETURN_DAYS]
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def validate_residency(primary_region: str, backup_region: str) -> None:
    """Both regions are in the registry and differ: backups live in another region."""
    errors: dict[str, list[str]] = {}
    if region(primary_region) is None:
        errors["primary_region"] = [f"unknown region {primary_region!r}; see /v1/regions"]
    if region(backup_region) is None:
        errors["backup_region"] = [f"unknown region {backup_region!r}; see /v1/regions"]
    if not errors and primary_region == backup_region:
        errors["backup_region"] = ["must differ from primary_region"]
    if errors:
        raise ValidationFailed("the residency is not valid", errors=errors)


class ResidencyNotAllowed(ValidationFailed):
    code, title = "residency-not-allowed", "The regions break the effective policy"


def check_residency_allowed(
    session: Session, *, primary_region: str, backup_region: str, changing: Collection[str]
) -> None:
    """422 when a region being set breaks the effective policy, now or at a known later
    instant (a contract or statement version already recorded to take effect)."""
    state = residency_state(session, primary_region=primary_region, backup_region=backup_region)
    problems = [p for p in state.problems() if p["field"] in changing]
    if not problems:
        return
    errors: dict[str, list[str]] = {}
    for problem in problems:
        document = f"{problem['source']} {problem['document']}"
        errors.setdefault(problem["field"], []).append(
            f"{problem['detail']} ({problem['rule']}, {document}, from {problem['since']:%Y-%m-%d})"
        )
    raise ResidencyNotAllowed(
        "the regions break the organisation's effective policy",
        errors={field: sorted(set(messages)) for field, messages in errors.items()},
    )


def describe_organisation(session: Session, organisation: Organisation) -> dict[str, Any]:
    """The organisation resource: its columns, and its residency under the policy from now."""
    state = residency_state(
        session,
        primary_region=organisation.primary_region,
        backup_region=organisation.backup_region,
    )
    columns = {column.key: getattr(organisation, column.key) for column in Organisation.__table__.c}
    return columns | {"residency_status": state.status, "residency_problems": state.problems()}


def list_organisations(
    session: Session, *, status: OrganisationStatus | None, limit: int, cursor: str | None
) -> Page[Organisation]:
    """Organisations in onboarding order, optionally of one status."""
    query = select(Organisation)
    if status is not None:
        query = query.where(Organisation.status == status)
    return paginate(session, query, keys=[Organisation.id], limit=limit, cursor=cursor)


def create_organisation(
    session: Session,
    ctx: RequestContext,
    *,
    slug: str,
    name: str,
    primary_region: str,
    backup_region: str,
) -> Organisation:
    """Onboard an organisation; its audit chain starts with this event."""
    slug = slug.lower()
    if not SLUG.match(slug):
        raise ValidationFailed("invalid slug", errors={"slug": ["lowercase letters, digits and -"]})
    validate_residency(primary_region, backup_region)
    # A new organisation has no contract yet: the statement in force bounds its regions.
    check_residency_allowed(
        session,
        primary_region=primary_region,
        backup_region=backup_region,
        changing={"primary_region", "backup_region"},
    )
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise AlreadyExists(f"an organisation with slug {slug!r} exists")
    organisation = Organisation(
        slug=slug, name=name, primary_region=primary_region, backup_region=backup_region
    )
    session.add(organisation)
    session.flush()
    bind_organisation(session, organisation.id)
    start_chain(session)
    record_event(
        session,
        ctx,
        action=OrganisationAction.OrganisationCreate,
        target_type="organisation",
        target_id=organisation.id,
        details={
            "slug": slug,
            "name": name,
            "primary_region": primary_region,
            "backup_region": backup_region,
        },
    )
    return organisation


def update_organisation(
    session: Session,
    ctx: RequestContext,
    *,
    organisation_id: uuid.UUID,
    if_match: IfMatch,
    changes: dict[str, Any],
) -> Organisation:
    """Change name or residency, if the caller's ETag is current."""
    organisation = get_organisation(session, organisation_id=organisation_id)
    if_match.check(organisation.id, organisation.version)
    if organisation.status is OrganisationStatus.offboarded:
        raise InvalidState("an offboarded organisation cannot change")
    primary = changes.get("primary_region", organisation.primary_region)
    backup = changes.get("backup_region", organisation.backup_region)
    validate_residency(primary, backup)
    # Only a region that changes must satisfy the policy: a name change, or moving one region
    # while the other is still being migrated, stays possible on an invalid residency.
    changing = {
        field
        for field in ("primary_region", "backup_region")
        if field in changes and changes[field] != getattr(organisation, field)
    }
    if changing:
        check_residency_allowed(
            session, primary_region=primary, backup_region=backup, changing=changing
        )
    before = {k: getattr(organisation, k) for k in changes}
    for key, value in changes.items():
        setattr(organisation, key, value)
    session.flush()
    record_event(
        session,
        ctx,
        action=OrganisationAction.OrganisationUpdate,
        target_type="organisation",
        target_id=organisation.id,
        details={"before": before, "after": changes},
    )
    return organisation


_TRANSITIONS: dict[OrganisationAction, tuple[set[OrganisationStatus], OrganisationStatus]] = {
    OrganisationAction.OrganisationSuspend: (
        {OrganisationStatus.active},
        OrganisationStatus.suspended,
    ),
    OrganisationAction.OrganisationReactivate: (
        {OrganisationStatus.suspended},
        OrganisationStatus.active,
    ),
    OrganisationAction.OrganisationOffboard: (
        {OrganisationStatus.active, OrganisationStatus.suspended},
        OrganisationStatus.offboarded,
    ),
}


def change_status(
    session: Session,
    ctx: RequestContext,
    *,
    organisation_id: uuid.UUID,
    action: OrganisationAction,
    reason: str | None,
) -> Organisation:
    """Suspend, reactivate or offboard; a suspended organisation's tokens are refused at once."""
    allowed_from, target = _TRANSITIONS[action]
    organisation = get_organisation(session, organisation_id=organisation_id)
    if organisation.status not in allowed_from:
        raise InvalidState(f"cannot go from {organisation.status.value} to {target.value}")
    previous = organisation.status
    now = utcnow()
    organisation.status = target
    organisation.status_reason = reason
    organisation.status_changed_at = now
    details: dict[str, Any] = {"from": previous.value, "to": target.value, "reason": reason}
    if target is OrganisationStatus.offboarded:
        basis = return_period(session, at=now)
        organisation.offboarded_at = now
        organisation.data_return_until = now + timedelta(days=basis["days"])
        organisation.data_return_basis = basis
        details |= {"data_return_until": organisation.data_return_until.isoformat()} | {
            "return_period": basis
        }
    session.flush()
    record_event(
        session,
        ctx,
        action=action,
        target_type="organisation",
        target_id=organisation.id,
        details=details,
    )
    return organisation


def return_period(session: Session, *, at: datetime) -> dict[str, Any]:
    """The return period in force at ``at`` for the session's organisation, with its
    provenance: the effective `offboarding.return_days` (GDPR art. 28(3)(g))."""
    resolved = effective_policy(session, at=at).values.get(RETURN_DAYS)
    if resolved is None or isinstance(resolved.value, bool) or not isinstance(resolved.value, int):
        # A statement version published before the key existed sets no value.
        return {"key": RETURN_DAYS, "days": DEFAULT_RETURN_DAYS, "source": "default"}
    return {
        "key": RETURN_DAYS,
        "days": resolved.value,
        "source": resolved.source.value,
        "document_id": None if resolved.document_id is None else str(resolved.document_id),
        "document": resolved.document_label,
        "since": resolved.since.isoformat(),
    }
