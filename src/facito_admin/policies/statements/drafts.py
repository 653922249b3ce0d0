"""Writing privacy statement versions (Facito's DPO): drafts change, published versions never.

Every change is recorded on Facito's own audit chain (audit/facito_log.py): a statement
belongs to no organisation. Publishing notifies the organisations later, in the background
(policies/notices/tasks.py), one session per organisation.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...audit.facito_log import lock_facito_chain, record_facito_event
from ...auth.context import RequestContext
from ...common.conditional import IfMatch
from ...db.base import utcnow
from ...errors import AlreadyExists, Conflict, ValidationFailed
from ..actions import PolicyAction
from ..models import PrivacyStatementChange, PrivacyStatementVersion, StatementStatus
from ..parameters import PolicyValuesInvalid, validate_policy_values
from .service import get_statement, latest_published, statement_in_force

NOTICE_KEY = "notice.material_change_days"


class StatementPublished(Conflict):
    """Published versions are immutable: the effective policy is resolved from them."""

    code, title = "statement-published", "A published statement version cannot change"


class NoticePeriodTooShort(Conflict):
    code, title = "notice-period-too-short", "A material change needs its notice period"


class EffectiveBeforePublication(Conflict):
    code, title = "effective-before-publication", "A version cannot take effect in the past"


class StatementOutOfOrder(Conflict):
    code, title = "statement-out-of-order", "Versions take effect one after another"


def _checked_parameters(values: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(validate_policy_values(values, require_all=True))
    except PolicyValuesInvalid as exc:
        raise ValidationFailed(
            "the policy parameters are not valid",
            errors={f"parameters.{key}": messages for key, messages in exc.errors.items()},
        ) from None


def _label_free(session: Session, label: str, *, statement_id: uuid.UUID | None) -> None:
    query = select(PrivacyStatementVersion.id).where(PrivacyStatementVersion.version_label == label)
    if statement_id is not None:
        query = query.where(PrivacyStatementVersion.id != statement_id)
    if session.scalar(query) is not None:
        raise AlreadyExists(f"a privacy statement version labelled {label!r} exists")


def _set_changes(statement: PrivacyStatementVersion, entries: list[dict[str, Any]]) -> None:
    statement.changes = [
        PrivacyStatementChange(
            position=position,
            summary=entry["summary"],
            reason=entry["reason"],
            material=entry["material"],
        )
        for position, entry in enumerate(entries, start=1)
    ]
    # A version is material as soon as one of its changes is (the notice rule follows it).
    statement.material = any(entry["material"] for entry in entries)


def _summary(statement: PrivacyStatementVersion) -> dict[str, Any]:
    return {
        "version_label": statement.version_label,
        "effective_from": statement.effective_from,
        "material": statement.material,
    }


def _draft(session: Session, statement_id: uuid.UUID) -> PrivacyStatementVersion:
    statement = get_statement(session, statement_id=statement_id, include_drafts=True)
    if statement.status is StatementStatus.published:
        raise StatementPublished(
            f"version {statement.version_label} is published and cannot change; "
            "draft a new version instead"
        )
    return statement


def create_draft(
    session: Session,
    ctx: RequestContext,
    *,
    version_label: str,
    last_updated: date,
    effective_from: datetime,
    parameters: dict[str, Any],
    changes: list[dict[str, Any]],
    bodies: dict[str, str],
) -> PrivacyStatementVersion:
    """Draft a new version; every policy parameter must have a value."""
    checked = _checked_parameters(parameters)
    _label_free(session, version_label, statement_id=None)
    statement = PrivacyStatementVersion(
        version_label=version_label,
        last_updated=last_updated,
        status=StatementStatus.draft,
        effective_from=effective_from,
        parameters=checked,
        bodies=dict(bodies),
        created_by=ctx.principal.display_name[:200],
    )
    _set_changes(statement, changes)
    session.add(statement)
    session.flush()
    record_facito_event(
        session,
        ctx,
        action=PolicyAction.StatementCreate,
        target_type="privacy_statement",
        target_id=statement.id,
        details=_summary(statement),
    )
    return statement


def update_draft(
    session: Session,
    ctx: RequestContext,
    *,
    statement_id: uuid.UUID,
    if_match: IfMatch,
    updates: dict[str, Any],
) -> PrivacyStatementVersion:
    """Change a draft (If-Match); lists and maps given are replaced as a whole."""
    statement = _draft(session, statement_id)
    if_match.check(statement.id, statement.version)
    if "parameters" in updates:
        statement.parameters = _checked_parameters(updates["parameters"])
    if "version_label" in updates:
        _label_free(session, updates["version_label"], statement_id=statement.id)
        statement.version_label = updates["version_label"]
    for name in ("last_updated", "effective_from"):
        if name in updates:
            setattr(statement, name, updates[name])
    if "bodies" in updates:
        statement.bodies = dict(updates["bodies"])
    if "changes" in updates:
        # The old entries go first: the unit of work inserts before it deletes, and the new
        # entries reuse their positions.
        statement.changes = []
        session.flush()
        _set_changes(statement, updates["changes"])
    # Always touch the row: a change-log-only edit must bump the version (and the ETag) too.
    statement.updated_at = utcnow()
    session.flush()
    record_facito_event(
        session,
        ctx,
        action=PolicyAction.StatementUpdate,
        target_type="privacy_statement",
        target_id=statement.id,
        details={"fields": sorted(updates), **_summary(statement)},
    )
    return statement


def delete_draft(
    session: Session, ctx: RequestContext, *, statement_id: uuid.UUID, if_match: IfMatch
) -> None:
    """Delete a draft (If-Match); published versions stay forever."""
    statement = _draft(session, statement_id)
    if_match.check(statement.id, statement.version)
    details = _summary(statement)
    session.delete(statement)
    session.flush()
    record_facito_event(
        session,
        ctx,
        action=PolicyAction.StatementDelete,
        target_type="privacy_statement",
        target_id=statement_id,
        details=details,
    )


def _notice_days(session: Session, statement: PrivacyStatementVersion, now: datetime) -> int:
    # The notice period is a promise of the statement in force when the change is announced,
    # not of the new one (which could otherwise shorten its own notice).
    in_force = statement_in_force(session, at=now)
    source = in_force.parameters if in_force is not None else statement.parameters
    return int(source[NOTICE_KEY])


def _check_publishable(session: Session, statement: PrivacyStatementVersion, now: datetime) -> None:
    latest = latest_published(session)
    if latest is not None and statement.effective_from <= latest.effective_from:
        raise StatementOutOfOrder(
            f"effective_from must be later than that of version {latest.version_label} "
            f"({latest.effective_from.isoformat()})",
            extra={"latest_effective_from": latest.effective_from.isoformat()},
        )
    if statement.effective_from < now:
        raise EffectiveBeforePublication(
            "effective_from lies before the moment of publication; move it to now or later",
            extra={"earliest_effective_from": now.isoformat()},
        )
    if statement.material:
        days = _notice_days(session, statement, now)
        earliest = now + timedelta(days=days)
        if statement.effective_from < earliest:
            raise NoticePeriodTooShort(
                f"a material change takes effect no earlier than {days} days after "
                f"publication: {earliest.isoformat()} at the earliest",
                extra={"earliest_effective_from": earliest.isoformat(), "notice_days": days},
            )


def publish_statement(
    session: Session,
    ctx: RequestContext,
    *,
    statement_id: uuid.UUID,
    if_match: IfMatch,
) -> PrivacyStatementVersion:
    """Publish a draft now; the organisations are notified in the background."""
    # Two publications at once could both pass the ordering check; the event this records
    # needs the chain's lock anyway, so take it before checking.
    lock_facito_chain(session)
    statement = _draft(session, statement_id)
    if_match.check(statement.id, statement.version)
    now = utcnow()
    _check_publishable(session, statement, now)
    statement.status = StatementStatus.published
    statement.published_at = now
    statement.published_by = ctx.principal.display_name[:200]
    # NULL: policies/notices/tasks.py still has to notify every organisation.
    statement.notices_sent_at = None
    session.flush()
    record_facito_event(
        session,
        ctx,
        action=PolicyAction.StatementPublish,
        target_type="privacy_statement",
        target_id=statement.id,
        details={**_summary(statement), "published_at": now},
    )
    return statement
