"""Policy audit actions: contracts, residency, statements, notices (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class PolicyAction(StrEnum):
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
    # GDPR art. 28(2): the organisation objects to the subprocessors or regions a version adds.
    NoticeObject = "org:notice:object"
