"""One page of directory users written to the accounts in bulk: a few reads, a few bulk writes.

Per page, whatever its size (Graph pages hold up to 999 users): one read of the accounts with
the page's object ids, and of the live accounts holding its UPNs and e-mails, each key probed
through its unique index; then one executemany UPDATE (version-checked, so a concurrent change
is detected rather than overwritten), one bulk INSERT, the entitlements of accounts that
changed status, and one bulk INSERT of audit events. Rows are read as plain tuples, never as
ORM objects, so the session's identity map does not grow.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Result, bindparam, insert, literal_column, select, text, true, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..accounts.actions import AccountAction
from ..accounts.entitlements import end_entitlements_of, reinstate_entitlements_of
from ..accounts.events import AccountEvent, account_event, publish_account_events
from ..accounts.models import Account, AccountSource, AccountStatus
from ..accounts.rules import key
from ..audit.service import EventSpec, record_events
from ..auth.context import RequestContext
from ..db.bulk import insert_rows, rows_as_table
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
# written out: as a bound parameter it would not match the index predicate in a generic plan.
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


def _rows(result: Result[Any]) -> list[Row]:
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


def apply_users(
    session: Session,
    request: RequestContext,
    users: list[DirectoryUser],
    *,
    facts: RunFacts,
    final: bool = False,
) -> PagePlan:
    """Apply one page of users; the plan tells the counts and the users deferred."""
    outside: list[DirectoryUser] = []
    if facts.verified_domains_only:
        users, outside = _split_by_verified_domains(session, users)
    _plan_cache(session, "force_custom_plan")
    by_oid = {
        row["entra_oid"]: row
        for row in _lookup(session, Account.entra_oid, [user.oid for user in users])
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
    # A key that a live account of the page already holds has no other live holder (they are
    # unique): only the others are looked up. Most users keep theirs, and reading their
    # accounts twice more was most of an unchanged full sync (measured: 300,000 rows read
    # and converted for 100,000 users).
    live = [row for row in by_oid.values() if row["status"] != DELETED]
    upns_held = {row["upn_key"] for row in live}
    emails_held = {row["email_key"] for row in live}
    holding = [row for row in live if row["upn_key"] in upn_keys or row["email_key"] in email_keys]
    holding += _lookup(session, Account.upn_key, sorted(upn_keys - upns_held), live=True)
    holding += _lookup(session, Account.email_key, sorted(email_keys - emails_held), live=True)
    holders = list({row["id"]: row for row in holding}.values())
    _plan_cache(session, "auto")
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


def refresh_statistics(session: Session) -> None:
    """PostgreSQL: refresh the accounts' planner statistics (migration 0019), after a sync
    added many accounts, as autovacuum would in its own time (or never, where it is off).

    Statistics that predate the added accounts make every index with the organisation first
    look as good as the unique ones: a first sync then probed each key by reading all the
    accounts it had already written (measured: 36 s of lookups in a 53 s sync of 20,000).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT refresh_account_statistics()"))


def _plan_cache(session: Session, mode: str) -> None:
    """PostgreSQL: plan the page's lookups for the table as it is now, and only them.

    The driver prepares a statement run often; PostgreSQL may then keep a generic plan made
    when the organisation had few accounts (a first sync starts from none) and go on scanning
    them all once it has 100,000. Custom plans cost a planning each time, which the bulk
    writes after the lookups must not pay once per row: measured, 0.41 s instead of 0.22 s
    for an executemany UPDATE of 950 accounts. SET LOCAL ends with the transaction anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL plan_cache_mode = {mode}"))


def _lookup(
    session: Session, column: InstrumentedAttribute[Any], keys: list[Any], *, live: bool = False
) -> list[Row]:
    """The accounts (live ones, if ``live``) whose ``column`` is one of ``keys``.

    PostgreSQL: one probe of the column's unique index per key, through a LATERAL subquery
    over the keys (OFFSET 0 keeps it one). With ``column IN (...)`` the planner trusts the
    statistics of the organisation's rows, which understate it while a first sync fills it
    (or whenever autovacuum has not analysed the table yet): it then reads every account of
    the organisation for each lookup. Measured at 20,000 accounts: 23-29 ms a lookup, and
    growing with the organisation, against 8 ms for the probes at any size.
    """
    if not keys:
        return []
    if session.get_bind().dialect.name != "postgresql":
        query = select(*READ).where(column.in_(keys))
        return _rows(session.execute(query.where(_LIVE) if live else query))
    wanted = rows_as_table(["key"], [{"key": k} for k in keys], [column.type], alias="wanted")
    query = select(*READ).where(column == wanted.c.key)
    probe = (query.where(_LIVE) if live else query).offset(0).lateral()
    found: Any = session.execute(select(*probe.c).select_from(wanted).join(probe, true()))
    return _rows(found)


def missing_accounts(
    session: Session, facts: RunFacts, seen: set[bytes], *, after: uuid.UUID | None
) -> list[uuid.UUID]:
    """The federation's live directory accounts a full sync did not find, in id order."""
    query = select(Account.id).where(*_removable(facts))
    if after is not None:
        query = query.where(Account.id > after)
    return [
        account_id
        for account_id in session.execute(query.order_by(Account.id)).scalars()
        if account_id.bytes not in seen
    ]


def _removable(facts: RunFacts) -> tuple[Any, ...]:
    return (
        Account.directory_federation_id == facts.federation_id,
        Account.source == AccountSource.graph,
        Account.status != AccountStatus.deleted,
    )


def remove_missing(
    session: Session, request: RequestContext, account_ids: list[uuid.UUID], *, facts: RunFacts
) -> PagePlan:
    """Soft-delete the accounts of ``account_ids`` that are still the federation's and live."""
    rows = [
        row
        for row in _lookup(session, Account.id, account_ids)
        if row["directory_federation_id"] == facts.federation_id
        and row["source"] == AccountSource.graph
        and row["status"] != DELETED
    ]
    plan = plan_removals(sorted(rows, key=lambda row: row["id"]), facts)
    write_plan(session, request, plan, facts=facts)
    return plan


def _update_in_one(params: list[dict[str, Any]]) -> Any:
    """_UPDATE for all of ``params`` in one statement (PostgreSQL, db/bulk.py).

    As an executemany, each row is a statement of its own: SQLAlchemy resolves every bound
    parameter of the ORM statement again for each, and migration 0018's statement trigger
    maintains the search rows once per row. Measured for a page: 950 updates took 100-170
    ms instead of 160-280 ms.
    """
    names = ["b_id", "b_version", "b_next", *(f"v_{column}" for column in WRITTEN)]
    columns = ["id", "version", "version", *WRITTEN]
    rows = rows_as_table(names, params, [getattr(Account, column).type for column in columns])
    return (
        update(Account)
        .where(Account.id == rows.c.b_id, Account.version == rows.c.b_version)
        .values({column: rows.c[f"v_{column}"] for column in WRITTEN} | {"version": rows.c.b_next})
        .execution_options(synchronize_session=False)
    )


def _insert(session: Session, records: list[dict[str, Any]]) -> None:
    """Insert new accounts: one statement on PostgreSQL (db/bulk.py), else an executemany."""
    if session.get_bind().dialect.name == "postgresql":
        organisation = {"organisation_id": require_organisation(session)}
        statement = insert_rows(Account, records, same=organisation)
        if statement is not None:
            session.execute(statement)
            return
    session.execute(insert(Account), records)


def _checked(session: Session, statement: Any, params: list[dict[str, Any]]) -> None:
    if not params:
        return
    result: Any
    if statement is _UPDATE and session.get_bind().dialect.name == "postgresql":
        result = session.execute(_update_in_one(params))
    else:
        result = session.execute(statement, params, execution_options=_ORM_MANY)
    if result.rowcount != len(params):
        raise ConcurrentChange(f"{len(params) - result.rowcount} accounts changed meanwhile")


def write_plan(
    session: Session, request: RequestContext, plan: PagePlan, *, facts: RunFacts
) -> None:
    """Write a plan's changes, entitlements and audit events (see the module docstring)."""
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
        _insert(
            session,
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
    activated = [
        c.account_id
        for c in updates
        if c.status is AccountStatus.active and c.status_before is not AccountStatus.active
    ]
    reinstated = reinstate_entitlements_of(session, activated, at=facts.now)
    specs = list(_events(plan.changes, ended, reinstated))
    if specs:
        # One endpoint lookup per page's transaction; the events are built only for subscribers.
        publish_account_events(session, _webhook_events(plan.changes, specs))
    # Sealed with the page, as its last write: a page records up to a thousand events, and
    # writing each once instead of three times (audit/sealing.seal_with_change) was a third
    # of a first full sync (issue 13). The chain head stays locked until the page commits.
    record_events(session, request, specs, seal=True)


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
    # Equal details are one dict, so that recording makes them canonical once per page, not
    # once per event (audit/service.record_events).
    shared: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in changes:

        def event(action: AccountAction, **details: Any) -> EventSpec:
            details |= {"cause": c.cause}  # noqa: B023 - used at once, inside the iteration
            spelled = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in details.items())
            return EventSpec(
                action=action,
                target_type="account",
                target_id=c.account_id,  # noqa: B023
                details=shared.setdefault(spelled, details),
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
