"""What one page of directory users does to the accounts: a plan over plain rows (no session).

Rules, in the order they apply to a user:
- its account is the one with its object id (deleted ones too, until purged); failing that, a
  live account created by hand (`manual`, no object id) with its UPN is adopted: it gets the
  object id and becomes a `graph` account, since the directory now governs it (like Entra
  Connect's soft match). Accounts of other sources are never taken over;
- `@removed` `changed` (soft-deleted in Entra) disables, `deleted` soft-deletes with the
  policy's grace period; a user seen again is restored while the grace period lasts;
- `accountEnabled` sets the status, except that a minor's account is not activated without
  guardian consent (GDPR art. 8; accounts/service.require_activation_allowed): it stays as it
  is and is counted as held;
- UPN and e-mail stay unique among live accounts. A user whose UPN or e-mail another live
  account keeps is deferred: the run retries it at its end (after a full sync's removals,
  and together with other deferred users, so two accounts swapping UPNs both succeed), and
  counts it as a conflict only if it still collides then.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..accounts.models import AccountSource, AccountStatus
from ..accounts.rules import key, optional_key, purge_after
from ..db.base import new_id
from .mapping import SYNCED_FIELDS, DirectoryUser

Row = dict[str, Any]
DELETED = AccountStatus.deleted
# What a sync writes to an account it changes (apply.py writes exactly these columns).
WRITTEN = (
    *SYNCED_FIELDS,
    "upn_key",
    "email_key",
    "name_key",
    "entra_oid",
    "source",
    "directory_federation_id",
    "status",
    "status_changed_at",
    "deleted_at",
    "purge_after",
    "deleted_from_status",
)
# Changes named in the account's update event (field names only, as the accounts code does).
VISIBLE = (*SYNCED_FIELDS, "entra_oid", "source")


@dataclass(frozen=True)
class RunFacts:
    """What every page of one sync shares."""

    federation_id: uuid.UUID
    full: bool
    now: datetime
    retention_days: int
    # The organisation's policy `accounts.verified_domains_only`: users with a UPN or e-mail
    # outside its own verified domains are skipped (apply.py), counted, never written.
    verified_domains_only: bool = False

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass
class Change:
    """One account to insert (``before`` None) or update, and why."""

    account_id: uuid.UUID
    before: Row | None
    after: Row
    cause: str
    fields: list[str] = field(default_factory=list)
    user: DirectoryUser | None = None
    # A minor's account the directory enabled, left as it was for want of guardian consent.
    minor_held: bool = False

    @property
    def user_oid(self) -> str | None:
        return None if self.user is None else self.user.oid

    @property
    def status(self) -> AccountStatus:
        return AccountStatus(self.after["status"])

    @property
    def status_before(self) -> AccountStatus | None:
        return None if self.before is None else AccountStatus(self.before["status"])

    @property
    def claims_keys(self) -> bool:
        """It makes a UPN or e-mail live that this account did not hold live before."""
        if self.status is DELETED:
            return False
        before = self.before
        if before is None or before["status"] == DELETED:
            return True
        return (before["upn_key"], before["email_key"]) != (
            self.after["upn_key"],
            self.after["email_key"],
        )

    @property
    def is_write(self) -> bool:
        before = self.before
        return before is None or any(before[column] != self.after[column] for column in WRITTEN)


@dataclass
class PagePlan:
    changes: list[Change] = field(default_factory=list)
    # A full sync's accounts found in the directory, changed or not (tasks.py keeps them for
    # the end of the listing: the federation's accounts not among them are removed).
    seen: list[uuid.UUID] = field(default_factory=list)
    deferred: list[DirectoryUser] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def minor_without_consent(row: Row, today: date) -> bool:
    """accounts.models.Account.minor_on and the consent check, for a plain row."""
    adult_on = row.get("adult_on")
    minor = today < adult_on if adult_on is not None else bool(row.get("is_minor"))
    return minor and row.get("guardian_consent_at") is None


def _status(before: Row | None, user: DirectoryUser, facts: RunFacts) -> tuple[AccountStatus, bool]:
    """The status the directory asks for, and whether a minor's activation was held back."""
    if before is None:
        return (AccountStatus.disabled if user.enabled is False else AccountStatus.active), False
    current = AccountStatus(before["status"])
    if user.enabled is False:
        return AccountStatus.disabled, False
    if user.enabled is None and current is not DELETED:
        return current, False  # a delta entry that does not mention it: no change
    if current is not AccountStatus.active and minor_without_consent(before, facts.today):
        return AccountStatus.disabled, True
    return AccountStatus.active, False


def _set_status(after: Row, before: Row | None, status: AccountStatus, facts: RunFacts) -> None:
    previous = None if before is None else before["status"]
    if previous == status:
        return
    after["status"] = status
    after["status_changed_at"] = facts.now
    if status is DELETED:
        after["deleted_from_status"] = previous
        after["deleted_at"] = facts.now
        after["purge_after"] = purge_after(facts.now, facts.retention_days)
    else:
        after["deleted_from_status"] = after["deleted_at"] = after["purge_after"] = None


def _new_row() -> Row:
    return dict.fromkeys(WRITTEN)


def _apply_user(before: Row | None, user: DirectoryUser, facts: RunFacts) -> Change | None:
    """The change the directory asks for (None: nothing to do, or the user is unusable)."""
    after = dict(before) if before is not None else _new_row()
    if user.removed is not None:
        if before is None:
            return None
        target = AccountStatus.disabled if user.removed == "changed" else DELETED
        if before["status"] == DELETED or (
            target is AccountStatus.disabled and before["status"] != AccountStatus.active
        ):
            return None
        _set_status(after, before, target, facts)
        cause = "directory-soft-deleted" if user.removed == "changed" else "directory-deleted"
        return Change(before["id"], before, after, cause, user=user)
    for name, value in user.fields.items():
        if value is not None or name not in ("user_principal_name", "display_name"):
            after[name] = value
    if after["user_principal_name"] is None:
        return None
    after["display_name"] = after["display_name"] or after["user_principal_name"]
    after.update(
        upn_key=key(after["user_principal_name"]),
        email_key=optional_key(after["email"]),
        name_key=key(after["display_name"]),
        entra_oid=user.oid,
        source=AccountSource.graph,
        directory_federation_id=facts.federation_id,
    )
    status, held = _status(before, user, facts)
    _set_status(after, before, status, facts)
    account_id = before["id"] if before is not None else new_id()
    fields = [n for n in VISIBLE if before is not None and before[n] != after[n]]
    return Change(account_id, before, after, "directory", fields, user, minor_held=held)


def _match(
    user: DirectoryUser, by_oid: dict[str, Row], by_upn: dict[str, Row], adopted: set[uuid.UUID]
) -> Row | None:
    """The user's account: by object id, else a live manual account with its UPN (adopted)."""
    before = by_oid.get(user.oid)
    if before is not None or user.removed is not None:
        return before
    upn = user.fields.get("user_principal_name")
    holder = by_upn.get(key(upn)) if upn else None
    if (
        holder is None
        or holder["entra_oid"] is not None
        or holder["source"] != AccountSource.manual
        or holder["id"] in adopted
    ):
        return None
    adopted.add(holder["id"])
    return holder


def plan_page(
    users: list[DirectoryUser],
    *,
    by_oid: dict[str, Row],
    holders: list[Row],
    facts: RunFacts,
    final: bool,
) -> PagePlan:
    """The plan for one page: ``by_oid`` are accounts with the users' object ids, ``holders``
    the live accounts holding their UPNs or e-mails. ``final``: deferring is over, a user
    that still collides is counted as a conflict."""
    plan = PagePlan()
    by_upn = {row["upn_key"]: row for row in holders}
    adopted: set[uuid.UUID] = set()
    candidates: list[Change] = []
    for user in users:
        before = _match(user, by_oid, by_upn, adopted)
        restoring = before is not None and before["status"] == DELETED and user.removed is None
        if restoring and before is not None and before["purge_after"] <= facts.now:
            plan.counts["skipped"] += 1  # about to be purged; a later sync creates it anew
            continue
        change = _apply_user(before, user, facts)
        if change is None:
            # Removed users we have no live account of, or new users without a UPN.
            plan.counts["unchanged" if user.removed else "skipped"] += 1
        else:
            candidates.append(change)
    rows = {row["id"]: row for row in [*by_oid.values(), *holders]}
    accepted, deferred = _resolve_keys(candidates, rows)
    for change in deferred:
        matched = change.before is not None and change.before["entra_oid"] == change.user_oid
        if matched and facts.full:
            plan.seen.append(change.account_id)  # found in the directory, even if not applied
        if final:
            plan.counts["conflicts"] += 1
        elif change.user is not None:
            plan.deferred.append(change.user)
    for change in accepted:
        plan.counts["minors_held"] += int(change.minor_held)
        if facts.full and change.user is not None and change.user.removed is None:
            plan.seen.append(change.account_id)
        if change.is_write:
            plan.changes.append(change)
            plan.counts[outcome(change)] += 1
        else:
            plan.counts["unchanged"] += 1
    return plan


def _resolve_keys(
    changes: list[Change], rows: dict[uuid.UUID, Row]
) -> tuple[list[Change], list[Change]]:
    """Split changes into those whose UPN and e-mail are free once the page is applied, and
    those that collide with an account that keeps them (deferred). Iterates to a fixpoint:
    deferring one change keeps its account's old keys, which may collide with another."""
    active = {change.account_id: change for change in changes}
    deferred: list[Change] = []
    if not any(change.claims_keys for change in changes):
        return list(active.values()), deferred  # nothing can collide: most unchanged pages
    while True:
        owners: dict[tuple[str, str], set[uuid.UUID]] = {}
        effective = rows | {account_id: change.after for account_id, change in active.items()}
        for account_id, row in effective.items():
            if row["status"] == DELETED:
                continue
            for kind in ("upn_key", "email_key"):
                if row[kind] is not None:
                    owners.setdefault((kind, row[kind]), set()).add(account_id)
        colliding = [
            change
            for change in active.values()
            if change.claims_keys
            and any(
                len(owners.get((kind, change.after[kind]), ())) > 1
                for kind in ("upn_key", "email_key")
                if change.after[kind] is not None
            )
        ]
        if not colliding:
            return list(active.values()), deferred
        for change in colliding:
            del active[change.account_id]
            deferred.append(change)


def plan_removals(rows: list[Row], facts: RunFacts) -> PagePlan:
    """Soft-delete accounts a complete full sync did not find in the directory."""
    plan = PagePlan()
    for before in rows:
        after = dict(before)
        _set_status(after, before, DELETED, facts)
        plan.changes.append(Change(before["id"], before, after, "directory-missing"))
        plan.counts["deleted"] += 1
    return plan


def outcome(change: Change) -> str:
    """The count a change goes to: its strongest effect."""
    before, after = change.status_before, change.status
    if before is None:
        return "created"
    if after is not before:
        if after is DELETED:
            return "deleted"
        if before is DELETED:
            return "restored"
        return "disabled" if after is AccountStatus.disabled else "enabled"
    return "updated"
