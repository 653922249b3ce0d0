"""SCIM Groups: the organisation's groups (groups/service.py) and their account members.

Bodies are parsed before the first query, as in scim/users.py (SQLite's write lock).
"""

from __future__ import annotations

import uuid
from typing import Any

from scim2_models import Context
from scim2_models import Group as GroupModel
from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from ..auth.context import RequestContext
from ..common.conditional import IfMatch
from ..errors import NotFound
from ..groups import service as groups
from ..groups.models import Group
from ..groups.service import Member
from . import filters
from .messages import apply_patch, parse_patch, parse_resource
from .resources import group_fields, group_model


def get_group(session: Session, *, group_id: str) -> Group:
    """The group behind a SCIM id."""
    try:
        return groups.get_group(session, group_id=uuid.UUID(group_id))
    except ValueError:
        raise NotFound("no such group") from None


def list_groups(
    session: Session, *, filter_: str | None, start_index: int, count: int
) -> tuple[int, list[Group]]:
    """The total of matching groups and one page of them, in id order."""
    condition: ColumnElement[bool] = filters.group_condition(filter_) if filter_ else true()
    total = session.scalar(select(func.count(Group.id)).where(condition)) or 0
    if count == 0 or start_index > total:
        return total, []
    page = session.scalars(
        select(Group).where(condition).order_by(Group.id).offset(start_index - 1).limit(count)
    )
    return total, list(page)


def members(session: Session, found: list[Group]) -> dict[uuid.UUID, list[Member]]:
    """The live members of the groups, one query for all."""
    return groups.members_of(session, [g.id for g in found])


def create_group(session: Session, ctx: RequestContext, *, body: Any) -> Group:
    """Create a group with its members (accounts of the organisation)."""
    resource = parse_resource(GroupModel, body, Context.RESOURCE_CREATION_REQUEST)
    fields, member_ids = group_fields(resource)
    return groups.create_group(
        session,
        ctx,
        display_name=fields["display_name"],
        external_id=fields["external_id"],
        member_ids=member_ids,
    )


def _write(
    session: Session,
    ctx: RequestContext,
    *,
    group: Group,
    current: set[uuid.UUID],
    fields: dict[str, Any],
    wanted: set[uuid.UUID],
    if_match: IfMatch,
) -> bool:
    _, changed = groups.update_group(
        session,
        ctx,
        group_id=group.id,
        if_match=if_match,
        changes=fields,
        add_members=wanted - current,
        remove_members=current - wanted,
    )
    return changed


def replace_group(
    session: Session, ctx: RequestContext, *, group_id: str, body: Any, if_match: IfMatch
) -> tuple[Group, bool]:
    """PUT: the group takes the sent name, external id and members."""
    resource = parse_resource(GroupModel, body, Context.RESOURCE_REPLACEMENT_REQUEST)
    group = get_group(session, group_id=group_id)
    fields, wanted = group_fields(resource)
    current = {m.account_id for m in groups.members_of(session, [group.id])[group.id]}
    return group, _write(
        session,
        ctx=ctx,
        group=group,
        current=current,
        fields=fields,
        wanted=wanted,
        if_match=if_match,
    )


def patch_group(
    session: Session, ctx: RequestContext, *, group_id: str, body: Any, if_match: IfMatch
) -> tuple[Group, bool]:
    """PATCH: apply the operations to the group's SCIM form, then write what changed."""
    patch = parse_patch(GroupModel, body)
    group = get_group(session, group_id=group_id)
    listed = groups.members_of(session, [group.id])[group.id]
    resource = group_model(group, listed)
    apply_patch(patch, resource)
    fields, wanted = group_fields(resource)
    current = {m.account_id for m in listed}
    return group, _write(
        session,
        ctx=ctx,
        group=group,
        current=current,
        fields=fields,
        wanted=wanted,
        if_match=if_match,
    )


def delete_group(
    session: Session, ctx: RequestContext, *, group_id: str, if_match: IfMatch
) -> None:
    """DELETE: the group and its memberships go; the accounts stay."""
    group = get_group(session, group_id=group_id)
    groups.delete_group(session, ctx, group_id=group.id, if_match=if_match)
