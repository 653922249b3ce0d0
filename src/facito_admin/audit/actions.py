"""Audit actions: `scope:resource:action`, one StrEnum so every action is documented here."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    OrganisationCreate = "facito:organisation:create"
    OrganisationUpdate = "facito:organisation:update"
    OrganisationSuspend = "facito:organisation:suspend"
    OrganisationReactivate = "facito:organisation:reactivate"
    OrganisationOffboard = "facito:organisation:offboard"
    FederationAttach = "org:federation:attach"
    FederationConsentStart = "org:federation:consent-start"
    FederationActivate = "org:federation:activate"
    FederationDisable = "org:federation:disable"
    FederationRemove = "org:federation:remove"
    DomainClaim = "org:domain:claim"
    DomainVerify = "org:domain:verify"
    DomainRemove = "org:domain:remove"
    JobCancel = "org:job:cancel"
    AccountCreate = "org:account:create"
    AccountUpdate = "org:account:update"
    AccountDisable = "org:account:disable"
    AccountEnable = "org:account:enable"
    AccountDelete = "org:account:delete"
    AccountRestore = "org:account:restore"
    AccountPurge = "org:account:purge"
    EntitlementGrant = "org:entitlement:grant"
    EntitlementRevoke = "org:entitlement:revoke"
    DirectorySyncStart = "org:directory-sync:start"
    DirectorySyncRun = "org:directory-sync:run"
    DirectorySyncSchedule = "org:directory-sync:schedule"
    ContractCreate = "org:contract:create"
    ContractUpdate = "org:contract:update"
    ContractTerminate = "org:contract:terminate"
    ContractDelete = "org:contract:delete"
    # The organisation's regions break its effective policy (now or from a known instant).
    ResidencyInvalid = "org:residency:invalid"
    # Facito's own chain (audit/facito_log.py): the DPO's privacy statement versions.
    StatementCreate = "facito:statement:create"
    StatementUpdate = "facito:statement:update"
    StatementDelete = "facito:statement:delete"
    StatementPublish = "facito:statement:publish"
    # An organisation's chain: notices Facito sends it, and their acknowledgement.
    NoticeCreate = "org:notice:create"
    NoticeAcknowledge = "org:notice:acknowledge"
