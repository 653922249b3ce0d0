"""Accounts: create, read, list and change the attributes of an organisation's accounts.

The lifecycle (disable, enable, delete, restore, purge) is in lifecycle.py.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, literal_column, select, union_all
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import Principal, PrincipalKind, RequestContext
from ..common.conditional import IfMatch
from ..common.pagination import Page
from ..db.base import new_id, utcnow
from ..db.tenancy import REUSED_STATEMENT, require_organisation, scoped_rows
from ..errors import AlreadyExists, InvalidState, NotFound, ValidationFailed
from ..policies.effective.defaults import PolicyKey, policy_flag, policy_value
from ..tenants.lookups import address_domain, verified_domain_owners
from . import listing, rules
from .actions import AccountAction
from .events import publish_account_change
from .fields import FIELDS, Access
from .listing import AccountFilter
from .models import LIVE, Account, AccountSource, AccountStatus, ProcessingRestriction
from .rules import GuardianConsentRequired

# Principals that are people of the organisation, whose token's object id names their account.
PERSON_KINDS = frozenset({PrincipalKind.employee, PrincipalKind.organisation_user})

# Fields an administrator or integration sets (fields.py); lifecycle fields change by actions.
EDITABLE = tuple(
    field.name for field in FIELDS.values() if field.access in (Access.editable, Access.integration)
)


@dataclass(frozen=True)
class _Unique:
    column: Any
    # UPN and e-mail: compared casefolded, unique among accounts that are not deleted; object
    # id (stored lowercase) and external id (case-exact): unique among all (models.py).
    casefolded_among_live: bool


_UNIQUE = {
    "user_principal_name": _Unique(Account.upn_key, casefolded_among_live=True),
    "email": _Unique(Account.email_key, casefolded_among_live=True),
    "entra_oid": _Unique(Account.entra_oid, casefolded_among_live=False),
    "external_id": _Unique(Account.external_id, casefolded_among_live=False),
}


def get_account(session: Session, *, account_id: uuid.UUID) -> Account:
    """One account of the session's organisation (deleted ones too, until purged)."""
    account = session.get(Account, (require_organisation(session), account_id))
    if account is None:
        raise NotFound("no such account")
    return account


def account_of_principal(
    session: Session, principal: Principal, *, include_deleted: bool = False
) -> Account:
    """The signed-in person's own account: the one with their token's object id (routes under
    /v1/me). A deleted account (unless ``include_deleted``: soft-deleted, not yet purged), an
    app or a principal without an account gets NotFound."""
    if principal.kind not in PERSON_KINDS or principal.organisation_id is None:
        raise NotFound("no account of yours in this organisation")
    query = select(Account).where(Account.entra_oid == principal.object_id.lower())
    account = session.scalar(query if include_deleted else query.where(LIVE))
    if account is None:
        raise NotFound("no account of yours in this organisation")
    return account


def restriction_in_force(
    session: Session, *, account_id: uuid.UUID
) -> ProcessingRestriction | None:
    """The account's processing restriction in force (GDPR art. 18), if any."""
    return session.scalar(
        select(ProcessingRestriction).where(
            ProcessingRestriction.account_id == account_id,
            ProcessingRestriction.lifted_at.is_(None),
        )
    )


def list_accounts(
    session: Session,
    *,
    account_filter: AccountFilter,
    sort: str,
    descending: bool,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """A keyset page of accounts as JSON-ready items; deleted ones only on request."""
    return listing.fetch_page(
        session, account_filter, sort=sort, descending=descending, limit=limit, cursor=cursor
    )


def _normalise(changes: dict[str, Any]) -> dict[str, Any]:
    values = dict(changes)
    if values.get("entra_oid") is not None:
        values["entra_oid"] = values["entra_oid"].lower()
    return values


@functools.cache
def _unique_query(fields: tuple[str, ...], excluding: bool) -> Any:
    """One indexed probe per field, as one UNION ALL; built once per set of fields.

    An OR of the conditions reads as one query but is planned as one: without statistics
    SQLite (and PostgreSQL on a small table) scans the organisation's accounts for it. Each
    arm here matches exactly one unique index (the partial ones through LIVE, written out).
    """
    probes: list[Select[Any]] = []
    for field in fields:
        unique = _UNIQUE[field]
        probe: Select[Any] = select(literal_column(f"'{field}'").label("field")).where(
            unique.column == bindparam(field, type_=unique.column.type)
        )
        if unique.casefolded_among_live:
            probe = probe.where(LIVE)
        if excluding:
            probe = probe.where(Account.id != bindparam("exclude", type_=Account.id.type))
        probes.append(probe)
    statement = union_all(*probes) if len(probes) > 1 else probes[0]
    # Run on every create and change: the tenancy guard keeps its scoped form (db/tenancy.py).
    return statement.execution_options(**{REUSED_STATEMENT: True})


def check_unique(session: Session, values: dict[str, Any], *, exclude: uuid.UUID | None) -> None:
    """409 naming the first field whose value another account of the organisation has."""
    params: dict[str, Any] = {}
    for field, unique in _UNIQUE.items():
        value = values.get(field)
        if value is not None:
            params[field] = rules.key(value) if unique.casefolded_among_live else value
    if not params:
        return
    query = _unique_query(tuple(params), exclude is not None)
    if exclude is not None:
        params["exclude"] = exclude
    # From its compiled form (db/compiled.py): through the Session's execution, this one
    # query cost a tenth of a SCIM create's CPU (bench/scim.py, py-spy).
    taken = {row.field for row in scoped_rows(session, query, params)}
    for field in _UNIQUE:
        if field in taken:
            raise AlreadyExists(
                f"another account of the organisation has this {field}", extra={"field": field}
            )


# The addresses whose domain says whose account it is.
_ADDRESS_FIELDS = ("user_principal_name", "email")


def check_domains(session: Session, values: dict[str, Any]) -> None:
    """422 when a UPN or e-mail lies in a domain another organisation verified: once verified,
    a domain (and its subdomains) is that organisation's alone, so nobody else can create
    `bob@orgb.example` and pass it off as B's. And 422 when the organisation verified domains,
    its policy requires them (`accounts.verified_domains_only`) and an address is outside them;
    the policy is read only then, so the usual create costs the one domain query. Directory
    sync checks the policy itself (directory_sync/apply.py); the first rule it needs not: Entra
    only lets a tenant's users carry the tenant's own verified domains."""
    addresses = {
        field: address_domain(values[field])
        for field in _ADDRESS_FIELDS
        if isinstance(values.get(field), str)
    }
    if not addresses:
        return
    ownership = verified_domain_owners(
        session,
        organisation_id=require_organisation(session),
        domains=[domain for domain in addresses.values() if domain is not None],
    )
    errors = {
        field: [f"The domain {ownership.of_others[domain]} is verified by another organisation."]
        for field, domain in addresses.items()
        if domain in ownership.of_others
    }
    if errors:
        raise rules.DomainOfAnotherOrganisation(
            "an address is in a domain another organisation verified", errors=errors
        )
    outside = {field: domain for field, domain in addresses.items() if domain not in ownership.own}
    # An organisation that verified no domain yet has none to require (it is onboarding).
    if (
        outside
        and ownership.has_verified
        and policy_flag(session, PolicyKey.AccountsVerifiedDomainsOnly)
    ):
        named = ", ".join(sorted({domain or "(no domain)" for domain in outside.values()}))
        raise rules.DomainNotVerified(
            f"{named} is not one of the organisation's verified domains, which its policy "
            "requires (accounts.verified_domains_only)",
            errors={
                field: [
                    f"The domain {domain} is not one of the organisation's verified domains."
                    if domain
                    else "The address has no domain."
                ]
                for field, domain in outside.items()
            },
        )


def _check_manager(session: Session, manager_id: uuid.UUID | None, account_id: uuid.UUID) -> None:
    if manager_id is None:
        return
    if manager_id == account_id:
        raise ValidationFailed(
            "an account cannot manage itself", errors={"manager_id": ["must be another account"]}
        )
    status = session.scalar(select(Account.status).where(Account.id == manager_id))
    if status is None or status is AccountStatus.deleted:
        raise ValidationFailed(
            "the manager is not an account of the organisation",
            errors={"manager_id": ["no such account in this organisation (or it was deleted)"]},
        )


def apply_minor_rules(session: Session, account: Account, changes: dict[str, Any]) -> None:
    """Set birth date and minor flag: with a birth date the flag follows from it."""
    if "birth_date" not in changes and "is_minor" not in changes:
        return
    birth_date: date | None = changes.get("birth_date", account.birth_date)
    account.birth_date = birth_date
    if birth_date is None:
        account.adult_on = None
        account.is_minor = changes.get("is_minor", account.is_minor)
        return
    consent_age = policy_value(session, PolicyKey.ChildrenConsentAge)
    account.adult_on = rules.adult_on(birth_date, consent_age)
    derived = account.minor_on(utcnow().date())
    if "is_minor" in changes and changes["is_minor"] != derived:
        raise ValidationFailed(
            "is_minor follows from the birth date",
            errors={"is_minor": [f"the birth date makes this {str(derived).lower()}"]},
        )
    account.is_minor = derived


def require_activation_allowed(account: Account) -> None:
    """GDPR art. 8: a minor's account becomes active only with a guardian's consent."""
    if account.minor_now and account.guardian_consent_at is None:
        raise GuardianConsentRequired(
            "the account belongs to a minor: a guardian must consent before it is active",
            extra={"account_id": str(account.id)},
        )


def _set_fields(account: Account, values: dict[str, Any]) -> None:
    for field in EDITABLE:
        if field in values and field not in ("birth_date", "is_minor"):
            setattr(account, field, values[field])
    if "user_principal_name" in values:
        account.upn_key = rules.key(values["user_principal_name"])
    if "email" in values:
        account.email_key = rules.optional_key(values["email"])
    if "display_name" in values:
        account.name_key = rules.key(values["display_name"])


def create_account(
    session: Session,
    ctx: RequestContext,
    *,
    fields: dict[str, Any],
    status: AccountStatus = AccountStatus.active,
    source: AccountSource = AccountSource.manual,
) -> Account:
    """Create an account (active unless asked otherwise; a minor's only with consent)."""
    values = _normalise(fields)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not account fields: {sorted(unknown)}")
    account = Account(id=new_id(), source=source, status=status, is_minor=False)
    check_unique(session, values, exclude=None)
    check_domains(session, values)
    _check_manager(session, values.get("manager_id"), account.id)
    _set_fields(account, values)
    apply_minor_rules(session, account, values)
    if status is AccountStatus.active:
        require_activation_allowed(account)
    session.add(account)
    session.flush()
    record_event(
        session,
        ctx,
        action=AccountAction.AccountCreate,
        target_type="account",
        target_id=account.id,
        # The chain is append-only and hashed: personal data written there could never be
        # erased (GDPR art. 17), so events name accounts by id and list field names only.
        details={"source": source.value, "status": status.value, "fields": sorted(values)},
    )
    publish_account_change(session, account, AccountAction.AccountCreate)
    return account


def update_account(
    session: Session,
    ctx: RequestContext,
    *,
    account_id: uuid.UUID,
    if_match: IfMatch,
    changes: dict[str, Any],
) -> Account:
    """Change attributes, if the caller's ETag is current; deleted accounts do not change."""
    account = get_account(session, account_id=account_id)
    if_match.check(account.id, account.version)
    if account.status is AccountStatus.deleted:
        raise InvalidState("a deleted account does not change; restore it first")
    values = _normalise(changes)
    changed = {k: v for k, v in values.items() if getattr(account, k) != v}
    check_unique(session, changed, exclude=account.id)
    check_domains(session, changed)
    if "manager_id" in changed:
        _check_manager(session, changed["manager_id"], account.id)
    _set_fields(account, changed)
    apply_minor_rules(session, account, values)
    if account.status is AccountStatus.active and {"birth_date", "is_minor"} & set(changed):
        # Only a change that makes the account a minor's: other edits of an account stay
        # possible whatever its consent state.
        require_activation_allowed(account)
    session.flush()
    record_event(
        session,
        ctx,
        action=AccountAction.AccountUpdate,
        target_type="account",
        target_id=account.id,
        details={"fields": sorted(changed)},
    )
    if changed:
        # An update that changed nothing is audited (someone asked) but tells receivers nothing.
        publish_account_change(session, account, AccountAction.AccountUpdate, fields=changed)
    return account
