"""The signed-in person's own profile: their account and the products they may use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..accounts.entitlements import list_entitlements
from ..accounts.models import Account
from ..accounts.service import PERSON_KINDS, account_of_principal
from ..auth.context import Principal
from ..auth.permissions import Permission
from ..errors import NotFound
from ..products.models import Entitlement

# More products than the catalogue will hold: one page is all of them.
MAX_PRODUCTS = 200


@dataclass(frozen=True)
class OwnProfile:
    account: Account
    products: list[Entitlement]


def may_have_profile(principal: Principal) -> bool:
    """Whether the caller is a person of an organisation who may read their own profile."""
    return (
        principal.kind in PERSON_KINDS
        and principal.organisation_id is not None
        and principal.can(Permission.SelfProfileRead)
    )


def own_profile(session: Session, principal: Principal) -> OwnProfile | None:
    """The caller's own account and its current entitlements; None without an account."""
    try:
        account = account_of_principal(session, principal)
    except NotFound:
        return None
    page = list_entitlements(
        session, account_id=account.id, active=True, limit=MAX_PRODUCTS, cursor=None
    )
    return OwnProfile(account, list(page.items))
