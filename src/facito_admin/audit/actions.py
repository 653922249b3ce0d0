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
    WebhookEndpointCreate = "org:webhook-endpoint:create"
    WebhookEndpointUpdate = "org:webhook-endpoint:update"
    WebhookEndpointDelete = "org:webhook-endpoint:delete"
    WebhookEndpointRotateSecret = "org:webhook-endpoint:rotate-secret"
    # The system disabled it: the receiver answered 410 Gone.
    WebhookEndpointDisable = "org:webhook-endpoint:disable"
    WebhookDeliveryRedeliver = "org:webhook-delivery:redeliver"
