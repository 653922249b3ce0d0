"""Groups: create, read, rename, change members, delete; audited like every change."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..accounts.models import Account, AccountStatus
from ..accounts.rules import key
from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common.conditional import IfMatch
from ..db.base import new_id, utcnow
from ..db.tenancy import require_organisation
from ..errors import AlreadyExists, NotFound, ValidationFailed
from .actions import GroupAction
from .models import Group, GroupMember


@dataclass(frozen=True)
class Member:
    """A live account in a group, as a listing shows it."""

    account_id: uuid.UUID
    display_name: str


def get_group(session: Session, *, group_id: uuid.UUID) -> Group:
    """One group of the session's organisation."""
    group = session.get(Group, (require_organisation(session), group_id))
    if group is None:
        raise NotFound("no such group")
    return group


def members_of(session: Session, group_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Member]]:
    """The live members of several groups in one query, ordered by account id.

    Memberships of deleted accounts stay (a restore brings them back) but are not shown.
    """
    found: dict[uuid.UUID, list[Member]] = {group_id: [] for group_id in group_ids}
    if not group_ids:
        return found
    rows = session.execute(
        select(GroupMember.group_id, Account.id, Account.display_name)
        .join(
            Account,
            (Account.organisation_id == GroupMember.organisation_id)
            & (Account.id == GroupMember.account_id),
        )
        .where(GroupMember.group_id.in_(group_ids), Account.status != AccountStatus.deleted)
        .order_by(GroupMember.group_id, Account.id)
    )
    for group_id, account_id, display_name in rows:
        found[group_id].append(Member(account_id, display_name))
    return found


def _check_name(session: Session, name: str, *, exclude: uuid.UUID | None) -> None:
    query = select(Group.id).where(Group.name_key == key(name))
    if exclude is not None:
        query = query.where(Group.id != exclude)
    if session.scalar(query.limit(1)) is not None:
        raise AlreadyExists(
            "another group of the organisation has this display name",
            extra={"field": "display_name"},
        )


def _check_external_id(
    session: Session, external_id: str | None, *, exclude: uuid.UUID | None
) -> None:
    if external_id is None:
        return
    query = select(Group.id).where(Group.external_id == external_id)
    if exclude is not None:
        query = query.where(Group.id != exclude)
    if session.scalar(query.limit(1)) is not None:
        raise AlreadyExists(
            "another group of the organisation has this external id",
            extra={"field": "external_id"},
        )


def _check_members(session: Session, account_ids: set[uuid.UUID]) -> None:
    if not account_ids:
        return
    live = set(
        session.scalars(
            select(Account.id).where(
                Account.id.in_(account_ids), Account.status != AccountStatus.deleted
            )
        )
    )
    missing = account_ids - live
    if missing:
        raise ValidationFailed(
            "members must be accounts of the organisation",
            errors={"members": [f"no such account: {sorted(str(m) for m in missing)[0]}"]},
        )


def _add_members(session: Session, group: Group, account_ids: Iterable[uuid.UUID]) -> None:
    rows = [
        {"organisation_id": group.organisation_id, "group_id": group.id, "account_id": account_id}
        for account_id in sorted(account_ids)
    ]
    if rows:
        session.execute(insert(GroupMember), rows)


def create_group(
    session: Session,
    ctx: RequestContext,
    *,
    display_name: str,
    external_id: str | None = None,
    member_ids: Iterable[uuid.UUID] = (),
) -> Group:
    """Create a group with its first members; the display name is unique."""
    members = set(member_ids)
    _check_name(session, display_name, exclude=None)
    _check_external_id(session, external_id, exclude=None)
    _check_members(session, members)
    group = Group(
        id=new_id(), display_name=display_name, name_key=key(display_name), external_id=external_id
    )
    session.add(group)
    session.flush()
    _add_members(session, group, members)
    record_event(
        session,
        ctx,
        action=GroupAction.GroupCreate,
        target_type="group",
        target_id=group.id,
        details={"members_added": sorted(str(m) for m in members)},
    )
    return group


def update_group(
    session: Session,
    ctx: RequestContext,
    *,
    group_id: uuid.UUID,
    if_match: IfMatch,
    changes: dict[str, Any],
    add_members: Iterable[uuid.UUID] = (),
    remove_members: Iterable[uuid.UUID] = (),
) -> tuple[Group, bool]:
    """Rename a group or change its external id and members (If-Match `*` for any version).

    Adding a member twice or removing a non-member changes nothing, as SCIM clients expect.
    Returns the group and whether it changed; nothing is recorded when nothing changed.
    """
    group = get_group(session, group_id=group_id)
    if_match.check(group.id, group.version)
    unknown = set(changes) - {"display_name", "external_id"}
    if unknown:
        raise ValueError(f"not group fields: {sorted(unknown)}")
    changed = {k: v for k, v in changes.items() if getattr(group, k) != v}
    if "display_name" in changed:
        _check_name(session, changed["display_name"], exclude=group.id)
    if "external_id" in changed:
        _check_external_id(session, changed["external_id"], exclude=group.id)
    current = set(
        session.scalars(select(GroupMember.account_id).where(GroupMember.group_id == group.id))
    )
    added = set(add_members) - current
    removed = set(remove_members) & current
    _check_members(session, added)
    if not changed and not added and not removed:
        return group, False
    for field, value in changed.items():
        setattr(group, field, value)
    if "display_name" in changed:
        group.name_key = key(changed["display_name"])
    _add_members(session, group, added)
    if removed:
        session.execute(
            delete(GroupMember).where(
                GroupMember.group_id == group.id, GroupMember.account_id.in_(removed)
            )
        )
    # A membership change is a change of the group: touching the row moves its version (ETag).
    group.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        ctx,
        action=GroupAction.GroupUpdate,
        target_type="group",
        target_id=group.id,
        details={
            "fields": sorted(changed),
            "members_added": sorted(str(m) for m in added),
            "members_removed": sorted(str(m) for m in removed),
        },
    )
    return group, True


def delete_group(
    session: Session, ctx: RequestContext, *, group_id: uuid.UUID, if_match: IfMatch
) -> None:
    """Delete a group and its memberships (the accounts stay)."""
    group = get_group(session, group_id=group_id)
    if_match.check(group.id, group.version)
    session.delete(group)
    session.flush()
    record_event(
        session, ctx, action=GroupAction.GroupDelete, target_type="group", target_id=group_id
    )
