"""The accounts' audit actions: their lifecycle and entitlements (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class AccountAction(StrEnum):
    AccountCreate = "org:account:create"
    AccountUpdate = "org:account:update"
    AccountDisable = "org:account:disable"
    AccountEnable = "org:account:enable"
    AccountDelete = "org:account:delete"
    AccountRestore = "org:account:restore"
    AccountPurge = "org:account:purge"
    EntitlementGrant = "org:entitlement:grant"
    EntitlementRevoke = "org:entitlement:revoke"
