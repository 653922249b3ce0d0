"""Preferences of an account: the current state, its changes (append-only), the history.

The state is the history folded over the policy's defaults (preferences.py); a change writes
one PreferenceChange row and one audit event in the caller's transaction, a request that
changes nothing writes neither. Guardian consents are in guardians.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Account, AccountStatus
from ..accounts.service import account_of_principal, get_account, restriction_in_force
from ..audit.service import record_event
from ..auth.context import PrincipalKind, RequestContext
from ..common.pagination import Page, paginate
from ..db.base import new_id, utcnow
from ..db.tenancy import require_organisation
from ..errors import Conflict, InvalidState
from ..policies.effective.service import effective_policy
from .actions import ConsentAction
from .models import PreferenceChange
from .preferences import (
    SETTINGS,
    ActorKind,
    Change,
    ChangeSource,
    ForbiddenByPolicy,
    PolicyTerms,
    SettingState,
    changes_to_record,
    flatten,
    fold,
    nest,
)


class PreferenceNotAllowed(Conflict):
    """The effective policy (statement or contract) does not allow opting in to this."""

    code, title = "preference-not-allowed-by-policy", "The policy does not allow this preference"


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and through which door (stored on each history row)."""

    kind: ActorKind
    id: str
    display: str
    source: ChangeSource


def actor_of(ctx: RequestContext, *, self_service: bool = False) -> Actor:
    """The actor of a request: the subject under /v1/me, else an integration or an admin."""
    principal = ctx.principal
    if self_service:
        kind, source = ActorKind.subject, ChangeSource.self_service
    elif principal.kind in (PrincipalKind.organisation_app, PrincipalKind.scim_client):
        kind, source = ActorKind.integration, ChangeSource.integration
    else:
        kind, source = ActorKind.admin, ChangeSource.admin_api
    return Actor(kind, principal.object_id, principal.display_name[:200], source)


@dataclass(frozen=True)
class PreferenceState:
    """An account's preferences now, as the API shows them."""

    account_id: uuid.UUID
    preferences: dict[str, Any]
    settings: list[dict[str, Any]]
    statement_version: dict[str, Any] | None
    last_changed_at: datetime | None


@dataclass(frozen=True)
class PreferenceUpdate:
    """The state after a change request, and whether it changed anything."""

    state: PreferenceState
    changed: dict[str, bool]


@dataclass(frozen=True)
class StatementVersion:
    """The privacy statement version in force: what the subject was shown when choosing."""

    id: uuid.UUID | None
    label: str


def _policy(session: Session) -> tuple[PolicyTerms, StatementVersion | None]:
    policy = effective_policy(session)
    statement = policy.statement
    version = (
        None
        if statement is None
        else StatementVersion(statement.version_id, statement.version_label)
    )
    return PolicyTerms.from_values(policy.value), version


def _restricted(session: Session, account_id: uuid.UUID) -> bool:
    return restriction_in_force(session, account_id=account_id) is not None


def _history(session: Session, account_id: uuid.UUID) -> list[Change]:
    rows = session.execute(
        select(PreferenceChange.changed_at, PreferenceChange.changes)
        .where(PreferenceChange.account_id == account_id)
        # UUIDv7 ids: the order the changes were made in.
        .order_by(PreferenceChange.id)
    ).all()
    return [Change(row.changed_at, dict(row.changes)) for row in rows]


def _state(
    account_id: uuid.UUID, state: Mapping[str, SettingState], statement: StatementVersion | None
) -> PreferenceState:
    changed = [s.changed_at for s in state.values() if s.changed_at is not None]
    return PreferenceState(
        account_id=account_id,
        preferences=nest({setting: state[setting].value for setting in SETTINGS}),
        settings=[
            {
                "setting": setting,
                "value": state[setting].value,
                "source": state[setting].source,
                "changed_at": state[setting].changed_at,
            }
            for setting in SETTINGS
        ],
        statement_version=None
        if statement is None
        else {"id": statement.id, "label": statement.label},
        last_changed_at=max(changed, default=None),
    )


def get_preferences(session: Session, *, account_id: uuid.UUID) -> PreferenceState:
    """An account's preferences now: choices over the policy's defaults, narrowed by it."""
    get_account(session, account_id=account_id)
    terms, statement = _policy(session)
    state = fold(terms, _history(session, account_id), restricted=_restricted(session, account_id))
    return _state(account_id, state, statement)


def change_preferences(
    session: Session,
    ctx: RequestContext,
    *,
    account_id: uuid.UUID,
    document: Mapping[str, Any],
    actor: Actor,
) -> PreferenceUpdate:
    """Change settings (a partial document): one history row and audit event, or nothing."""
    account = get_account(session, account_id=account_id)
    return _change(session, ctx, account, document, actor)


def _change(
    session: Session,
    ctx: RequestContext,
    account: Account,
    document: Mapping[str, Any],
    actor: Actor,
) -> PreferenceUpdate:
    if account.status is AccountStatus.deleted:
        raise InvalidState("a deleted account's preferences do not change; restore it first")
    terms, statement = _policy(session)
    history = _history(session, account.id)
    restricted = _restricted(session, account.id)
    try:
        changed = changes_to_record(terms, fold(terms, history), flatten(document))
    except ForbiddenByPolicy as refused:
        raise PreferenceNotAllowed(
            f"the effective policy ({refused.policy_key} is false) does not allow "
            f"{refused.setting}",
            extra={"setting": refused.setting, "policy_key": refused.policy_key},
        ) from None
    if not changed:
        state = fold(terms, history, restricted=restricted)
        return PreferenceUpdate(_state(account.id, state, statement), {})
    now = utcnow()
    row = PreferenceChange(
        id=new_id(),
        organisation_id=require_organisation(session),
        account_id=account.id,
        changed_at=now,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_display=actor.display,
        source=actor.source.value,
        statement_version_id=statement.id if statement else None,
        statement_version_label=statement.label if statement else None,
        changes=changed,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        ctx,
        action=ConsentAction.PreferencesChange,
        target_type="account",
        target_id=account.id,
        details={
            "change_id": str(row.id),
            "changed": changed,
            "actor_kind": actor.kind.value,
            "source": actor.source.value,
            "statement_version": row.statement_version_label,
        },
    )
    history.append(Change(now, changed))
    state = fold(terms, history, restricted=restricted)
    return PreferenceUpdate(_state(account.id, state, statement), changed)


def list_preference_changes(
    session: Session, *, account_id: uuid.UUID, limit: int, cursor: str | None
) -> Page[PreferenceChange]:
    """The account's preference changes, newest first."""
    get_account(session, account_id=account_id)
    query = select(PreferenceChange).where(PreferenceChange.account_id == account_id)
    return paginate(
        session, query, keys=[PreferenceChange.id], limit=limit, cursor=cursor, descending=True
    )


# The caller's own account (routes under /v1/me): the same rules, the subject as the actor.


def get_own_preferences(session: Session, ctx: RequestContext) -> PreferenceState:
    """The caller's own preferences."""
    account = account_of_principal(session, ctx.principal)
    return get_preferences(session, account_id=account.id)


def change_own_preferences(
    session: Session, ctx: RequestContext, *, document: Mapping[str, Any]
) -> PreferenceUpdate:
    """Change the caller's own preferences (actor: the subject, source: self-service)."""
    account = account_of_principal(session, ctx.principal)
    return _change(session, ctx, account, document, actor_of(ctx, self_service=True))


def list_own_preference_changes(
    session: Session, ctx: RequestContext, *, limit: int, cursor: str | None
) -> Page[PreferenceChange]:
    """The caller's own preference changes, newest first."""
    account = account_of_principal(session, ctx.principal)
    return list_preference_changes(session, account_id=account.id, limit=limit, cursor=cursor)
