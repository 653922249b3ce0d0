"""One page of directory users written to the accounts in bulk: two reads, a few bulk writes.

Per page, whatever its size (Graph pages hold up to 999 users): one read of the accounts with
the page's object ids, one of the live accounts holding its UPNs and e-mails, then one
executemany UPDATE (version-checked, so a concurrent change is detected rather than
overwritten), one bulk INSERT, one UPDATE marking the accounts a full sync found, the
entitlements of accounts that changed status, and one bulk INSERT of audit events. Rows are
read as plain tuples, never as ORM objects, so the session's identity map does not grow.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Row as SqlRow
from sqlalchemy import bindparam, insert, literal_column, or_, select, text, update
from sqlalchemy.orm import Session

from ..accounts.actions import AccountAction
from ..accounts.entitlements import end_entitlements_of, reinstate_entitlements_of
from ..accounts.events import AccountEvent, account_event, publish_account_events
from ..accounts.models import Account, AccountSource, AccountStatus
from ..accounts.rules import key
from ..audit.service import EventSpec, record_events
from ..auth.context import RequestContext
from ..db.tenancy import require_organisation
from ..products.models import EndReason
from ..tenants.lookups import address_domain, verified_domain_owners
from .mapping import DirectoryUser
from .plan import (
    DELETED,
    VISIBLE,
    WRITTEN,
    Change,
    PagePlan,
    Row,
    RunFacts,
    plan_page,
    plan_removals,
)

# The count of users skipped for the policy `accounts.verified_domains_only`.
OUTSIDE_VERIFIED_DOMAINS = "outside_verified_domains"
READ = (
    Account.id,
    Account.version,
    *(getattr(Account, column) for column in WRITTEN),
    Account.is_minor,
    Account.adult_on,
    Account.guardian_consent_at,
)
# What a created account's event lists: the fields the directory gave it.
CREATE_FIELDS = tuple(n for n in VISIBLE if n != "source")
# The predicate of the partial unique indexes on UPN and e-mail (accounts.models.NOT_DELETED),
# written out: as a bound parameter it would not match the index predicate once PostgreSQL
# switches the prepared statement to a generic plan, and every page would scan the accounts.
_LIVE = Account.status != literal_column("'deleted'")
_ORM_MANY = {"dml_strategy": "orm", "synchronize_session": False}
# One statement for every account a page changes: each sets all WRITTEN columns, so that the
# page is a single executemany. The version check turns a concurrent edit into ConcurrentChange.
_UPDATE = (
    update(Account)
    .where(Account.id == bindparam("b_id"), Account.version == bindparam("b_version"))
    .values(
        {
            column: bindparam(f"v_{column}", type_=getattr(Account, column).type)
            for column in WRITTEN
        }
        | {"version": bindparam("b_next")}
    )
)
# Frees the UPN and e-mail of accounts that hand them to others in the same page (two users
# swapping UPNs): each unique index is checked row by row, so the final UPDATE cannot do it.
_RELEASE = (
    update(Account)
    .where(Account.id == bindparam("b_id"), Account.version == bindparam("b_version"))
    .values(upn_key=bindparam("b_placeholder"), email_key=None)
)


class ConcurrentChange(Exception):
    """An account changed between the page's read and its write: apply the page again."""


def _rows(result: Sequence[SqlRow[Any]]) -> list[Row]:
    return [dict(row._mapping) for row in result]


def apply_users(
    session: Session,
    request: RequestContext,
    users: list[DirectoryUser],
    *,
    facts: RunFacts,
    final: bool = False,
) -> PagePlan:
    """Apply one page of users; the plan tells the counts and the users deferred."""
    _custom_plans(session)
    outside: list[DirectoryUser] = []
    if facts.verified_domains_only:
        users, outside = _split_by_verified_domains(session, users)
    oids = [user.oid for user in users]
    by_oid = {
        row["entra_oid"]: row
        for row in _rows(session.execute(select(*READ).where(Account.entra_oid.in_(oids))).all())
    }
    # The UPNs and e-mails the page may make live: those it states, and those of deleted
    # accounts it may restore (a delta entry need not repeat them).
    upn_keys: set[str] = {r["upn_key"] for r in by_oid.values() if r["status"] == DELETED}
    email_keys: set[str] = {
        r["email_key"] for r in by_oid.values() if r["status"] == DELETED and r["email_key"]
    }
    for user in users:
        upn, email = user.fields.get("user_principal_name"), user.fields.get("email")
        if upn:
            upn_keys.add(key(upn))
        if email:
            email_keys.add(key(email))
    holders: list[Row] = []
    if upn_keys or email_keys:
        holders = _rows(
            session.execute(
                select(*READ).where(
                    _LIVE, or_(Account.upn_key.in_(upn_keys), Account.email_key.in_(email_keys))
                )
            ).all()
        )
    plan = plan_page(users, by_oid=by_oid, holders=holders, facts=facts, final=final)
    plan.counts[OUTSIDE_VERIFIED_DOMAINS] += len(outside)
    write_plan(session, request, plan, facts=facts)
    return plan


def _split_by_verified_domains(
    session: Session, users: list[DirectoryUser]
) -> tuple[list[DirectoryUser], list[DirectoryUser]]:
    """The users whose stated UPN and e-mail lie in the organisation's own verified domains,
    and the others (one query for the page, as accounts/service.check_domains does).

    A removal is always applied: it writes no address. A delta entry that states neither
    address keeps the account's, which were checked when they came.
    """
    stated = {
        user.oid: [
            address_domain(value) or ""
            for name in ("user_principal_name", "email")
            if (value := user.fields.get(name))
        ]
        for user in users
        if user.removed is None
    }
    ownership = verified_domain_owners(
        session,
        organisation_id=require_organisation(session),
        domains=sorted({domain for domains in stated.values() for domain in domains if domain}),
    )
    if not ownership.has_verified:
        return users, []  # nothing to require yet (accounts/service.check_domains)
    inside: list[DirectoryUser] = []
    outside: list[DirectoryUser] = []
    for user in users:
        domains = stated.get(user.oid, [])
        (inside if all(d in ownership.own for d in domains) else outside).append(user)
    return inside, outside


def _custom_plans(session: Session) -> None:
    """PostgreSQL: plan this transaction's statements for their actual values.

    A page looks accounts up by ~1,000 object ids and UPNs. Once the driver prepares such a
    statement, PostgreSQL may switch to a generic plan, which cannot use the partial unique
    indexes and rebuilds the 1,000-value list for every row it filters; measured: 1 s per
    lookup at 100,000 accounts instead of milliseconds. SET LOCAL ends with the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def remove_missing(
    session: Session,
    request: RequestContext,
    *,
    facts: RunFacts,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[PagePlan, uuid.UUID | None]:
    """Soft-delete up to ``limit`` accounts of the federation this full sync did not see."""
    query = select(*READ).where(
        Account.directory_federation_id == facts.federation_id,
        Account.source == AccountSource.graph,
        Account.status != AccountStatus.deleted,
        or_(Account.directory_seen_run.is_(None), Account.directory_seen_run != facts.run_id),
    )
    if after is not None:
        query = query.where(Account.id > after)
    rows = _rows(session.execute(query.order_by(Account.id).limit(limit)).all())
    plan = plan_removals(rows, facts)
    write_plan(session, request, plan, facts=facts)
    return plan, (rows[-1]["id"] if rows else after)


def _checked(session: Session, statement: Any, params: list[dict[str, Any]]) -> None:
    if not params:
        return
    result: Any = session.execute(statement, params, execution_options=_ORM_MANY)
    if result.rowcount != len(params):
        raise ConcurrentChange(f"{len(params) - result.rowcount} accounts changed meanwhile")


def write_plan(
    session: Session, request: RequestContext, plan: PagePlan, *, facts: RunFacts
) -> None:
    """Write a plan's changes, marks, entitlements and audit events (see the module docstring)."""
    organisation_id = require_organisation(session)
    updates = [c for c in plan.changes if c.before is not None]
    inserts = [c for c in plan.changes if c.before is None]
    ended = _end_entitlements(session, updates, facts)
    releasing = [c for c in updates if c.claims_keys or c.status is DELETED]
    if _swaps(updates):
        _checked(
            session,
            _RELEASE,
            [
                {
                    "b_id": c.account_id,
                    "b_version": c.before["version"],  # type: ignore[index]
                    "b_placeholder": f"~directory-sync~{c.account_id}",
                }
                for c in releasing
            ],
        )
    _checked(
        session,
        _UPDATE,
        [
            {f"v_{column}": c.after[column] for column in WRITTEN}
            | {
                "b_id": c.account_id,
                "b_version": c.before["version"],  # type: ignore[index]
                "b_next": c.before["version"] + 1,  # type: ignore[index]
            }
            for c in updates
        ],
    )
    if inserts:
        session.execute(
            insert(Account),
            [
                c.after
                | {
                    "organisation_id": organisation_id,
                    "id": c.account_id,
                    "version": 1,
                    "is_minor": False,
                    "created_at": facts.now,
                    "updated_at": facts.now,
                }
                for c in inserts
            ],
        )
    if plan.seen and facts.full:
        session.execute(
            update(Account)
            .where(
                Account.id.in_(plan.seen), Account.directory_seen_run.is_distinct_from(facts.run_id)
            )
            # Being found again is no change of the account: its ETag and updated_at stay.
            .values(directory_seen_run=facts.run_id, updated_at=Account.updated_at)
            .execution_options(synchronize_session=False)
        )
    activated = [
        c.account_id
        for c in updates
        if c.status is AccountStatus.active and c.status_before is not AccountStatus.active
    ]
    reinstated = reinstate_entitlements_of(session, activated, at=facts.now)
    specs = list(_events(plan.changes, ended, reinstated))
    record_events(session, request, specs)
    if specs:
        # One endpoint lookup per page's transaction; the events are built only for subscribers.
        publish_account_events(session, _webhook_events(plan.changes, specs))


def _swaps(updates: list[Change]) -> bool:
    """Whether an update takes a UPN or e-mail that another account of the page holds now."""
    held = {
        (kind, c.before[kind]): c.account_id
        for c in updates
        for kind in ("upn_key", "email_key")
        if c.before is not None and c.before[kind] is not None and c.before["status"] != DELETED
    }
    return any(
        held.get((kind, c.after[kind]), c.account_id) != c.account_id
        for c in updates
        if c.claims_keys
        for kind in ("upn_key", "email_key")
    )


def _end_entitlements(
    session: Session, updates: list[Change], facts: RunFacts
) -> dict[uuid.UUID, list[str]]:
    ending = {
        EndReason.account_disabled: [
            c.account_id
            for c in updates
            if c.status is AccountStatus.disabled and c.status_before is AccountStatus.active
        ],
        EndReason.account_deleted: [
            c.account_id for c in updates if c.status is DELETED and c.status_before is not DELETED
        ],
    }
    ended: dict[uuid.UUID, list[str]] = {}
    for reason, ids in ending.items():
        ended |= end_entitlements_of(session, ids, reason=reason, at=facts.now)
    return ended


def _events(
    changes: list[Change],
    ended: dict[uuid.UUID, list[str]],
    reinstated: dict[uuid.UUID, list[str]],
) -> Iterator[EventSpec]:
    """The audit events of a page: per account, its update, then its status change.

    Field names and entitlement codes only, never values (accounts/service.create_account
    says why: the chain cannot forget personal data).
    """
    for c in changes:

        def event(action: AccountAction, **details: Any) -> EventSpec:
            return EventSpec(
                action=action,
                target_type="account",
                target_id=c.account_id,  # noqa: B023 - used at once, inside the iteration
                details=details | {"cause": c.cause},  # noqa: B023
            )

        before, after = c.status_before, c.status
        if before is None:
            fields = sorted(n for n in CREATE_FIELDS if c.after[n] is not None)
            yield event(AccountAction.AccountCreate, source="graph", status=after, fields=fields)
            continue
        if c.fields:
            yield event(AccountAction.AccountUpdate, fields=sorted(c.fields))
        if before is after:
            continue
        lost = ended.get(c.account_id, [])
        back = reinstated.get(c.account_id, [])
        if after is DELETED:
            purge = c.after["purge_after"].isoformat()
            yield event(AccountAction.AccountDelete, purge_after=purge, ended_entitlements=lost)
        elif before is DELETED:
            yield event(AccountAction.AccountRestore, status=after, reinstated_entitlements=back)
        elif after is AccountStatus.disabled:
            yield event(AccountAction.AccountDisable, ended_entitlements=lost)
        else:
            yield event(AccountAction.AccountEnable, reinstated_entitlements=back)


def _webhook_events(changes: list[Change], specs: list[EventSpec]) -> Iterator[AccountEvent]:
    """The webhook event of each audited change, as the REST and SCIM paths publish it."""
    by_id = {c.account_id: c for c in changes}
    for spec in specs:
        c = by_id[uuid.UUID(str(spec.target_id))]
        action = AccountAction(spec.action)
        yield account_event(
            action,
            account_id=c.account_id,
            status=c.status,
            source=c.after["source"],
            fields=c.fields,
            purge_after=c.after["purge_after"] if action is AccountAction.AccountDelete else None,
        )
