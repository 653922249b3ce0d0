"""SCIM Users: the organisation's accounts, changed through the accounts services.

Every change goes through accounts/service.py and accounts/lifecycle.py, so SCIM and REST
keep the same rules (uniqueness, minors, grace period) and write the same audit events.
A deleted account (in its grace period) is no SCIM resource: reads answer 404.

Bodies are parsed before the first query of the view: a writing session takes SQLite's
database-wide write lock at its BEGIN (db/session.py), which is for the work on the one resource,
not for parsing (on PostgreSQL the request's transaction has read the token, and locks nothing).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from scim2_models import Context
from sqlalchemy import ColumnElement, Integer, Row, Select, bindparam, func, select, true
from sqlalchemy.orm import Session

from ..accounts import lifecycle
from ..accounts import service as accounts
from ..accounts.models import LIVE, Account, AccountSource, AccountStatus
from ..auth.context import RequestContext
from ..common.conditional import ANY, IfMatch
from ..db.tenancy import REUSED_STATEMENT, require_organisation, scoped_rows
from ..errors import NotFound
from . import filters
from .messages import apply_patch, parse_patch, parse_resource
from .resources import USER_COLUMNS, UserModel, account_fields, user_model


def _account_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("no such user") from None


def get_user(session: Session, *, user_id: str) -> Account:
    """The live (active or disabled) account behind a SCIM id."""
    account = session.get(Account, (require_organisation(session), _account_id(user_id)))
    if account is None or account.status is AccountStatus.deleted:
        raise NotFound("no such user")
    return account


def _listing(condition: ColumnElement[bool]) -> tuple[Select[Any], Select[Any]]:
    """A page of matching live accounts (USER_COLUMNS, in id order) and their count."""
    page = select(*USER_COLUMNS).where(LIVE, condition).order_by(Account.id)
    counted = select(func.count(Account.id)).where(LIVE, condition)
    offset, limit = bindparam("page_offset", type_=Integer), bindparam("page_limit", type_=Integer)
    return page.offset(offset).limit(limit), counted


@functools.cache
def _equality_listing(name: str) -> tuple[Select[Any], Select[Any]]:
    # Built once per attribute and run for every organisation: the tenancy guard keeps their
    # scoped forms (db/tenancy.py), and SQLAlchemy their compiled SQL.
    page, counted = _listing(filters.user_equality_condition(name))
    reused = {REUSED_STATEMENT: True}
    return page.execution_options(**reused), counted.execution_options(**reused)


def list_users(
    session: Session, *, filter_: str | None, start_index: int, count: int
) -> tuple[int, Sequence[Row[Any]]]:
    """The total of matching live accounts and one page of them (rows of USER_COLUMNS), in
    id order."""
    params: dict[str, Any] = {}
    equality = filters.user_equality(filter_) if filter_ else None
    if equality is not None:
        page, counted = _equality_listing(equality[0])
        params[filters.EQUALITY_VALUE] = equality[1]
    else:
        condition = filters.user_condition(filter_) if filter_ else true()
        page, counted = _listing(condition)
    if count == 0:
        return scoped_rows(session, counted, params)[0][0] or 0, []
    found = scoped_rows(
        session, page, {**params, "page_offset": start_index - 1, "page_limit": count}
    )
    # A page shorter than asked ends the matches, so it gives the total without counting them
    # again: the usual lookup (Entra's `userName eq "…"`) finds one account in one query.
    if (found and len(found) < count) or (not found and start_index == 1):
        return start_index - 1 + len(found), found
    return scoped_rows(session, counted, params)[0][0] or 0, found


def create_user(session: Session, ctx: RequestContext, *, body: Any) -> Account:
    """Create an account with source `scim` (disabled when `active` is false)."""
    user = parse_resource(UserModel, body, Context.RESOURCE_CREATION_REQUEST)
    fields, active = account_fields(user)
    status = AccountStatus.disabled if active is False else AccountStatus.active
    return accounts.create_account(
        session,
        ctx,
        fields={k: v for k, v in fields.items() if v is not None},
        status=status,
        source=AccountSource.scim,
    )


def _apply(
    session: Session,
    ctx: RequestContext,
    account: Account,
    *,
    fields: dict[str, Any],
    active: bool | None,
    if_match: IfMatch,
) -> bool:
    """Write what differs through the account services; whether anything changed.

    The client's precondition goes with the first change (the services check it, as for
    REST); a change that follows ours in the same request needs none.
    """
    changes = {k: v for k, v in fields.items() if getattr(account, k) != v}
    precondition = if_match
    if changes:
        accounts.update_account(
            session, ctx, account_id=account.id, if_match=precondition, changes=changes
        )
        precondition = ANY
    if active is False and account.status is AccountStatus.active:
        lifecycle.disable_account(session, ctx, account_id=account.id, if_match=precondition)
        return True
    if active is True and account.status is AccountStatus.disabled:
        lifecycle.enable_account(session, ctx, account_id=account.id, if_match=precondition)
        return True
    if not changes:
        # Nothing to write, but a stale precondition is still refused (RFC 9110 §13.1.1).
        if_match.check(account.id, account.version)
    return bool(changes)


def replace_user(
    session: Session, ctx: RequestContext, *, user_id: str, body: Any, if_match: IfMatch
) -> tuple[Account, bool]:
    """PUT: the account takes the sent attributes; those left out are cleared."""
    user = parse_resource(UserModel, body, Context.RESOURCE_REPLACEMENT_REQUEST)
    account = get_user(session, user_id=user_id)
    fields, active = account_fields(user)
    return account, _apply(session, ctx, account, fields=fields, active=active, if_match=if_match)


def patch_user(
    session: Session, ctx: RequestContext, *, user_id: str, body: Any, if_match: IfMatch
) -> tuple[Account, bool]:
    """PATCH: apply the operations to the account's SCIM form, then write what changed."""
    patch = parse_patch(UserModel, body)
    account = get_user(session, user_id=user_id)
    resource = user_model(account)
    apply_patch(patch, resource)
    fields, active = account_fields(resource)
    return account, _apply(session, ctx, account, fields=fields, active=active, if_match=if_match)


def delete_user(session: Session, ctx: RequestContext, *, user_id: str, if_match: IfMatch) -> None:
    """DELETE: the account's soft delete; restorable over REST during the grace period."""
    account = get_user(session, user_id=user_id)
    lifecycle.delete_account(session, ctx, account_id=account.id, if_match=if_match)
