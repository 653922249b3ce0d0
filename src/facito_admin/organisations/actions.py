"""The organisations' audit actions: lifecycle, federations, domains (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class OrganisationAction(StrEnum):
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
