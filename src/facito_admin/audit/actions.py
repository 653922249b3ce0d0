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
    # Facito's own chain (audit/facito_log.py): the DPO's privacy statement versions.
    StatementCreate = "facito:statement:create"
    StatementUpdate = "facito:statement:update"
    StatementDelete = "facito:statement:delete"
    StatementPublish = "facito:statement:publish"
    # An organisation's chain: notices Facito sends it, and their acknowledgement.
    NoticeCreate = "org:notice:create"
    NoticeAcknowledge = "org:notice:acknowledge"
    GroupCreate = "org:group:create"
    GroupUpdate = "org:group:update"
    GroupDelete = "org:group:delete"
    ScimTokenCreate = "org:scim-token:create"
    ScimTokenRevoke = "org:scim-token:revoke"
    WebhookEndpointCreate = "org:webhook-endpoint:create"
    WebhookEndpointUpdate = "org:webhook-endpoint:update"
    WebhookEndpointDelete = "org:webhook-endpoint:delete"
    WebhookEndpointRotateSecret = "org:webhook-endpoint:rotate-secret"
    # The system disabled it: the receiver answered 410 Gone.
    WebhookEndpointDisable = "org:webhook-endpoint:disable"
    WebhookDeliveryRedeliver = "org:webhook-delivery:redeliver"
