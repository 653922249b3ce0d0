"""Contracts of an organisation: recorded by operators, read by the organisation.

A contract is a legal record. What governed stays as it governed, so that the effective
policy "as of" any past instant never changes after the fact: once a contract has taken
effect its products, overrides and start are fixed, it ends by termination (or a changed
end that is still ahead), and only a contract that never took effect can be deleted. An
amendment is a new contract starting where the terminated one ends.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...auth.context import RequestContext
from ...common.conditional import IfMatch
from ...common.pagination import Page, paginate
from ...db.base import new_id, utcnow
from ...db.tenancy import require_organisation
from ...errors import AlreadyExists, Conflict, InvalidState, NotFound, ValidationFailed
from ...products.models import Product
from ...tenants.models import Organisation
from ..actions import PolicyAction
from ..effective.events import recheck_residency
from ..models import Contract, FacitoRole
from ..parameters import PolicyValuesInvalid, validate_policy_values
from .events import announce_contract_change

# Fields that shape the effective policy or the routing of requests: fixed once in force.
GOVERNING = frozenset({"effective_from", "products", "overrides"})
EDITABLE = frozenset({"reference", "signed_on", "effective_to"}) | GOVERNING
# signed_on is a calendar date where it was signed; a day ahead of UTC covers every zone.
_SIGNING_SLACK = timedelta(days=1)


class ContractOverlap(Conflict):
    code, title = "contract-overlap", "Another contract covers part of this period"


class ContractInForce(Conflict):
    code, title = "contract-in-force", "The contract has taken effect"


def get_contract(session: Session, *, contract_id: uuid.UUID) -> Contract:
    """One contract of the session's organisation."""
    contract = session.get(Contract, (require_organisation(session), contract_id))
    if contract is None:
        raise NotFound("no such contract")
    return contract


def list_contracts(session: Session, *, limit: int, cursor: str | None) -> Page[Contract]:
    """The organisation's contracts in the order they take effect."""
    return paginate(
        session,
        select(Contract),
        keys=[Contract.effective_from, Contract.id],
        limit=limit,
        cursor=cursor,
    )


def _checked_products(session: Session, products: list[dict[str, Any]]) -> dict[str, str]:
    """``[{code, role}]`` → ``{code: role}``; every code from the catalogue, each once."""
    errors: dict[str, list[str]] = {}
    codes = [item["code"] for item in products]
    known = set(session.scalars(select(Product.code).where(Product.code.in_(codes))))
    seen: set[str] = set()
    for index, code in enumerate(codes):
        if code not in known:
            errors[f"products.{index}.code"] = [f"unknown product {code!r}; see /v1/products"]
        elif code in seen:
            errors[f"products.{index}.code"] = [f"{code!r} is listed twice"]
        seen.add(code)
    if errors:
        raise ValidationFailed("the covered products are not valid", errors=errors)
    return {item["code"]: FacitoRole(item["role"]).value for item in products}


def _checked_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(validate_policy_values(overrides))
    except PolicyValuesInvalid as exc:
        raise ValidationFailed(
            "the policy overrides are not valid",
            errors={f"overrides.{key}": messages for key, messages in exc.errors.items()},
        ) from None


def _check_dates(signed_on: date, effective_from: datetime, effective_to: datetime | None) -> None:
    errors: dict[str, list[str]] = {}
    if signed_on > (utcnow() + _SIGNING_SLACK).date():
        errors["signed_on"] = ["must not be in the future"]
    if effective_to is not None and effective_to <= effective_from:
        errors["effective_to"] = ["must be after effective_from"]
    if errors:
        raise ValidationFailed("the contract's dates are not valid", errors=errors)


def _lock_organisation(session: Session) -> Organisation:
    # Serialises contract writers of one organisation, so two overlapping creates cannot both
    # pass the check: PostgreSQL locks the organisation row (FOR UPDATE; other organisations
    # do not wait); SQLite renders no FOR UPDATE, and its write sessions already hold the
    # database write lock from BEGIN IMMEDIATE (db/session.py).
    organisation = session.scalars(
        select(Organisation)
        .where(Organisation.id == require_organisation(session))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if organisation is None:
        raise NotFound("no such organisation")
    return organisation


def _check_no_overlap(
    session: Session,
    *,
    effective_from: datetime,
    effective_to: datetime | None,
    exclude: uuid.UUID | None,
) -> None:
    """409 naming another contract of the organisation whose period meets this one."""
    query = select(Contract).where(
        or_(Contract.effective_to.is_(None), Contract.effective_to > effective_from)
    )
    if effective_to is not None:
        query = query.where(Contract.effective_from < effective_to)
    if exclude is not None:
        query = query.where(Contract.id != exclude)
    other = session.scalars(query.order_by(Contract.effective_from).limit(1)).first()
    if other is not None:
        raise ContractOverlap(
            f"contract {other.reference!r} is in force during part of this period",
            extra={
                "other_contract": {
                    "id": str(other.id),
                    "reference": other.reference,
                    "effective_from": other.effective_from.isoformat(),
                    "effective_to": other.effective_to.isoformat() if other.effective_to else None,
                }
            },
        )


def _check_reference_free(session: Session, reference: str, exclude: uuid.UUID | None) -> None:
    query = select(Contract.id).where(Contract.reference == reference)
    if exclude is not None:
        query = query.where(Contract.id != exclude)
    if session.scalar(query) is not None:
        raise AlreadyExists(
            f"the organisation has a contract with reference {reference!r}",
            extra={"field": "reference"},
        )


def _after_change(
    session: Session,
    ctx: RequestContext,
    *,
    organisation: Organisation,
    contract: Contract,
    action: PolicyAction,
    details: dict[str, Any] | None = None,
) -> None:
    announce_contract_change(session, ctx, contract=contract, action=action, details=details)
    # A contract is recorded as signed even when the data sits where it no longer may: the
    # organisation is flagged (its resource shows the problems) and told, not refused.
    recheck_residency(
        session,
        ctx,
        organisation=organisation,
        cause=f"contract {contract.reference} ({action.value})",
    )


def create_contract(
    session: Session,
    ctx: RequestContext,
    *,
    reference: str,
    signed_on: date,
    effective_from: datetime,
    effective_to: datetime | None,
    products: list[dict[str, Any]],
    overrides: dict[str, Any],
) -> Contract:
    """Record a signed contract; its period must not overlap another contract's."""
    _check_dates(signed_on, effective_from, effective_to)
    checked_products = _checked_products(session, products)
    checked_overrides = _checked_overrides(overrides)
    organisation = _lock_organisation(session)
    _check_reference_free(session, reference, None)
    _check_no_overlap(
        session, effective_from=effective_from, effective_to=effective_to, exclude=None
    )
    contract = Contract(
        id=new_id(),
        reference=reference,
        signed_on=signed_on,
        effective_from=effective_from,
        effective_to=effective_to,
        products=checked_products,
        overrides=checked_overrides,
    )
    session.add(contract)
    session.flush()
    _after_change(
        session,
        ctx,
        organisation=organisation,
        contract=contract,
        action=PolicyAction.ContractCreate,
    )
    return contract


def update_contract(
    session: Session,
    ctx: RequestContext,
    *,
    contract_id: uuid.UUID,
    if_match: IfMatch,
    changes: dict[str, Any],
) -> Contract:
    """Correct or extend a contract (If-Match); what already governed does not change."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not contract fields: {sorted(unknown)}")
    organisation = _lock_organisation(session)
    contract = get_contract(session, contract_id=contract_id)
    if_match.check(contract.id, contract.version)
    values = dict(changes)
    if "products" in values:
        values["products"] = _checked_products(session, values["products"])
    if "overrides" in values:
        values["overrides"] = _checked_overrides(values["overrides"])
    changed = {k: v for k, v in values.items() if getattr(contract, k) != v}
    now = utcnow()
    if contract.effective_from <= now:
        fixed = sorted(GOVERNING & changed.keys())
        if fixed:
            raise ContractInForce(
                "the contract has taken effect: terminate it and record its successor",
                extra={"fields": fixed},
            )
        if "effective_to" in changed:
            _check_end_ahead(contract, changed["effective_to"], now)
    elif "effective_from" in changed and changed["effective_from"] < now:
        # A scheduled contract moved into the past would rewrite which terms governed then.
        raise ValidationFailed(
            "a scheduled contract cannot be moved to start in the past",
            errors={"effective_from": ["must not lie in the past"]},
        )
    effective_from = changed.get("effective_from", contract.effective_from)
    effective_to = changed.get("effective_to", contract.effective_to)
    _check_dates(changed.get("signed_on", contract.signed_on), effective_from, effective_to)
    if "reference" in changed:
        _check_reference_free(session, changed["reference"], contract.id)
    if {"effective_from", "effective_to"} & changed.keys():
        _check_no_overlap(
            session, effective_from=effective_from, effective_to=effective_to, exclude=contract.id
        )
    before = {k: _plain(getattr(contract, k)) for k in changed}
    for key, value in changed.items():
        setattr(contract, key, value)
    session.flush()
    _after_change(
        session,
        ctx,
        organisation=organisation,
        contract=contract,
        action=PolicyAction.ContractUpdate,
        details={"before": before, "after": {k: _plain(v) for k, v in changed.items()}},
    )
    return contract


def _check_end_ahead(contract: Contract, new_end: datetime | None, now: datetime) -> None:
    # The end of a contract in force may move, but only where it is still ahead: a past end
    # (or a new one in the past) would rewrite which terms governed.
    if contract.effective_to is not None and contract.effective_to <= now:
        raise ContractInForce("the contract has ended; record a new contract instead")
    if new_end is not None and new_end <= now:
        raise ValidationFailed(
            "the end of a contract in force must be ahead",
            errors={"effective_to": ["must be in the future; use terminate to end it now"]},
        )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def terminate_contract(
    session: Session,
    ctx: RequestContext,
    *,
    contract_id: uuid.UUID,
    if_match: IfMatch,
    effective_to: datetime | None,
    reason: str,
) -> Contract:
    """End a contract in force, now or at a later instant before its agreed end."""
    organisation = _lock_organisation(session)
    contract = get_contract(session, contract_id=contract_id)
    if_match.check(contract.id, contract.version)
    now = utcnow()
    if contract.effective_from > now:
        raise InvalidState("the contract has not taken effect: change or delete it instead")
    if contract.effective_to is not None and contract.effective_to <= now:
        raise InvalidState("the contract has already ended")
    end = effective_to or now
    if end < now:
        raise ValidationFailed(
            "a termination cannot take effect in the past",
            errors={"effective_to": ["must not be in the past; leave it out to end now"]},
        )
    if contract.effective_to is not None and end >= contract.effective_to:
        raise ValidationFailed(
            "a termination ends the contract before its agreed end",
            errors={"effective_to": [f"must be before {contract.effective_to.isoformat()}"]},
        )
    # A contract that takes effect and is terminated in the same instant governed nothing.
    end = max(end, contract.effective_from + timedelta(microseconds=1))
    before = _plain(contract.effective_to)
    contract.effective_to = end
    contract.terminated_at = now
    contract.termination_reason = reason
    session.flush()
    _after_change(
        session,
        ctx,
        organisation=organisation,
        contract=contract,
        action=PolicyAction.ContractTerminate,
        details={"reason": reason, "before": {"effective_to": before}},
    )
    return contract


def delete_contract(
    session: Session, ctx: RequestContext, *, contract_id: uuid.UUID, if_match: IfMatch
) -> None:
    """Remove a contract recorded by mistake; only one that never took effect."""
    organisation = _lock_organisation(session)
    contract = get_contract(session, contract_id=contract_id)
    if_match.check(contract.id, contract.version)
    if contract.effective_from <= utcnow():
        raise ContractInForce(
            "a contract that took effect is a record: terminate it instead of deleting it"
        )
    session.delete(contract)
    session.flush()
    # The deleted row's loaded values still describe it for the event.
    _after_change(
        session,
        ctx,
        organisation=organisation,
        contract=contract,
        action=PolicyAction.ContractDelete,
    )
