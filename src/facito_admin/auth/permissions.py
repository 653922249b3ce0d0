"""Permissions as one StrEnum (`scope:resource:action`) and the app roles that grant them."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    OrganisationRead = "org:organisation:read"
    FederationsRead = "org:federations:read"
    FederationsWrite = "org:federations:write"
    DomainsRead = "org:domains:read"
    DomainsWrite = "org:domains:write"
    AuditRead = "org:audit:read"
    JobsRead = "org:jobs:read"
    JobsWrite = "org:jobs:write"
    AccountsRead = "org:accounts:read"
    AccountsWrite = "org:accounts:write"
    EntitlementsRead = "org:entitlements:read"
    EntitlementsWrite = "org:entitlements:write"
    DirectorySyncRead = "org:directory-syncs:read"
    DirectorySyncWrite = "org:directory-syncs:write"
    ContractsRead = "org:contracts:read"
    # Contracts are recorded by Facito operators; the organisation reads what it signed.
    ContractsWrite = "org:contracts:write"
    PolicyRead = "org:policy:read"
    NoticesRead = "org:notices:read"
    NoticesWrite = "org:notices:write"
    # GDPR art. 28(2): object to the subprocessors or regions a statement version adds.
    NoticesObject = "org:notices:object"
    ScimTokensRead = "org:scim-tokens:read"
    ScimTokensWrite = "org:scim-tokens:write"
    GroupsRead = "org:groups:read"
    GroupsWrite = "org:groups:write"
    WebhooksRead = "org:webhooks:read"
    WebhooksWrite = "org:webhooks:write"
    # Data linked to accounts (user_data/): its metadata, ingestion, and the content itself,
    # whose every read is audited.
    DataRecordsRead = "org:data-records:read"
    DataRecordsWrite = "org:data-records:write"
    DataContentRead = "org:data-content:read"
    PreferencesRead = "org:preferences:read"
    PreferencesWrite = "org:preferences:write"
    GuardianConsentsRead = "org:guardian-consents:read"
    GuardianConsentsWrite = "org:guardian-consents:write"
    LegalHoldsRead = "org:legal-holds:read"
    LegalHoldsWrite = "org:legal-holds:write"
    # Retention preview, deletion certificates (read) and starting a retention run (write).
    RetentionRead = "org:retention:read"
    RetentionWrite = "org:retention:write"
    # Data-subject requests in the organisation's queue: read them, file one for an account,
    # and handle them (verify, assign, extend, fulfil, decide; download an access export).
    SubjectRequestsRead = "org:data-subject-requests:read"
    SubjectRequestsFile = "org:data-subject-requests:file"
    SubjectRequestsHandle = "org:data-subject-requests:handle"
    # A person signed in with a delegated token: their own account, and nobody else's.
    SelfProfileRead = "self:profile:read"
    SelfPreferencesRead = "self:preferences:read"
    SelfPreferencesWrite = "self:preferences:write"
    SelfDataRead = "self:data:read"
    SelfRequestsRead = "self:data-subject-requests:read"
    SelfRequestsFile = "self:data-subject-requests:file"
    # Facito staff only: act on the organisations themselves.
    OrganisationsManage = "facito:organisations:manage"
    OrganisationsList = "facito:organisations:list"
    # Drafts of privacy statement versions (published ones are for every signed-in caller).
    StatementsReadDrafts = "facito:statements:read-drafts"
    StatementsWrite = "facito:statements:write"
    # The organisations' objections to new subprocessors and regions (GDPR art. 28(2)).
    ObjectionsRead = "facito:subprocessor-objections:read"
    # Facito's own audit chain (audit/facito_log.py).
    FacitoAuditRead = "facito:audit:read"
    # Facito's DPO queue of data-subject requests (personal accounts, Facito-controlled data).
    FacitoRequestsRead = "facito:data-subject-requests:read"
    FacitoRequestsFile = "facito:data-subject-requests:file"
    FacitoRequestsHandle = "facito:data-subject-requests:handle"


class AppRole(StrEnum):
    """App roles defined on the API's app registration (the `roles` claim)."""

    OrganisationAdmin = "Organisation.Admin"
    OrganisationReader = "Organisation.Reader"
    PrivacyOfficer = "Privacy.Officer"
    IntegrationReadWrite = "Integration.ReadWrite"
    FacitoOperator = "Facito.Operator"
    FacitoPrivacyOfficer = "Facito.PrivacyOfficer"
    SupportEngineer = "Support.Engineer"


ORGANISATION_ROLES = frozenset(
    {
        AppRole.OrganisationAdmin,
        AppRole.OrganisationReader,
        AppRole.PrivacyOfficer,
        AppRole.IntegrationReadWrite,
    }
)
STAFF_ROLES = frozenset(
    {AppRole.FacitoOperator, AppRole.FacitoPrivacyOfficer, AppRole.SupportEngineer}
)

_P = Permission
_ACCOUNTS_READ = frozenset({_P.AccountsRead, _P.EntitlementsRead})
_ACCOUNTS_WRITE = _ACCOUNTS_READ | {_P.AccountsWrite, _P.EntitlementsWrite}
_JOBS_READ = frozenset({_P.JobsRead})
_JOBS_WRITE = _JOBS_READ | {_P.JobsWrite}
_SYNC_READ = frozenset({_P.DirectorySyncRead})
_SYNC_WRITE = _SYNC_READ | {_P.DirectorySyncWrite}
_POLICY_READ = frozenset({_P.ContractsRead, _P.PolicyRead})
_NOTICES_READ = frozenset({_P.NoticesRead})
_NOTICES_WRITE = _NOTICES_READ | {_P.NoticesWrite, _P.NoticesObject}
_SCIM_TOKENS_WRITE = frozenset({_P.ScimTokensRead, _P.ScimTokensWrite})
_WEBHOOKS_READ = frozenset({_P.WebhooksRead})
_WEBHOOKS_WRITE = _WEBHOOKS_READ | {_P.WebhooksWrite}
_DATA_READ = frozenset(
    {
        _P.DataRecordsRead,
        _P.PreferencesRead,
        _P.GuardianConsentsRead,
        _P.LegalHoldsRead,
        _P.RetentionRead,
    }
)
# Those who answer for the organisation's data: its administrators and privacy officers.
_DATA_CONTROL = _DATA_READ | {
    _P.DataContentRead,
    _P.DataRecordsWrite,
    _P.PreferencesWrite,
    _P.GuardianConsentsWrite,
    _P.LegalHoldsWrite,
    _P.RetentionWrite,
    _P.SubjectRequestsRead,
    _P.SubjectRequestsFile,
    _P.SubjectRequestsHandle,
}

ROLE_PERMISSIONS: dict[AppRole, frozenset[Permission]] = {
    AppRole.OrganisationAdmin: frozenset(
        {_P.OrganisationRead, _P.FederationsRead, _P.DomainsRead, _P.DomainsWrite, _P.AuditRead}
        | _ACCOUNTS_WRITE
        | _JOBS_WRITE
        | _SYNC_WRITE
        | _POLICY_READ
        | _NOTICES_WRITE
        # Only administrators hand out provisioning credentials (a SCIM token writes accounts).
        | _SCIM_TOKENS_WRITE
        | _WEBHOOKS_WRITE
        | _DATA_CONTROL
    ),
    AppRole.OrganisationReader: frozenset(
        {_P.OrganisationRead, _P.FederationsRead, _P.DomainsRead}
        | _ACCOUNTS_READ
        | _JOBS_READ
        | _SYNC_READ
        | _POLICY_READ
        | _NOTICES_READ
        | _WEBHOOKS_READ
        # Readers see what data is linked to accounts, never its content.
        | _DATA_READ
    ),
    # The organisation's privacy officer acknowledges Facito's statement changes too, and
    # answers for the data linked to the accounts (holds, guardians, preferences, content).
    AppRole.PrivacyOfficer: frozenset(
        {_P.OrganisationRead, _P.AuditRead}
        | _NOTICES_WRITE
        | _POLICY_READ
        | _ACCOUNTS_READ
        | _DATA_CONTROL
    ),
    # Customer systems provision accounts and their products, and follow their jobs; they
    # may read the effective policy (e.g. the response days of the requests they file), the
    # contracts themselves are for people; they receive webhooks, so they may follow
    # deliveries (registering endpoints is the admin's).
    # They push the data their systems link to accounts and the consents their own banners
    # and forms collect; reading content back is for people (and audited).
    AppRole.IntegrationReadWrite: frozenset(
        {
            _P.OrganisationRead,
            _P.PolicyRead,
            _P.DataRecordsRead,
            _P.DataRecordsWrite,
            _P.PreferencesRead,
            _P.PreferencesWrite,
            # A customer's own intake files requests and follows them; handling is people's.
            _P.SubjectRequestsRead,
            _P.SubjectRequestsFile,
        }
        | _ACCOUNTS_WRITE
        | _JOBS_WRITE
        | _SYNC_WRITE
        | _WEBHOOKS_READ
    ),
    # Operators onboard organisations: they act on any organisation's profile and federation.
    AppRole.FacitoOperator: frozenset(
        {
            _P.OrganisationsManage,
            _P.OrganisationsList,
            _P.OrganisationRead,
            _P.FederationsRead,
            _P.FederationsWrite,
            _P.DomainsRead,
            _P.DomainsWrite,
            _P.AuditRead,
            _P.JobsRead,
            _P.JobsWrite,
            # Operators record contracts against the statement: they see its drafts coming,
            # and which organisations acknowledged a change; they write neither.
            _P.StatementsReadDrafts,
            _P.NoticesRead,
            _P.ObjectionsRead,
            _P.FacitoAuditRead,
        }
        # Operators may look at a customer's accounts when onboarding or helping, but the
        # customer alone changes them; a directory sync only mirrors the customer's own
        # directory, so operators may start one (after onboarding a federation).
        | _ACCOUNTS_READ
        | _SYNC_WRITE
        # Operators record the contracts they negotiated.
        | _POLICY_READ
        | {_P.ContractsWrite}
    ),
    # Facito's DPO writes the privacy statement and follows who acknowledged its changes;
    # it reads contracts and effective policies to answer for Facito-controlled data.
    AppRole.FacitoPrivacyOfficer: frozenset(
        {
            _P.OrganisationsList,
            _P.OrganisationRead,
            _P.StatementsReadDrafts,
            _P.StatementsWrite,
            _P.NoticesRead,
            _P.ObjectionsRead,
            _P.FacitoAuditRead,
            # It answers the requests of personal accounts and about Facito-controlled data.
            _P.FacitoRequestsRead,
            _P.FacitoRequestsFile,
            _P.FacitoRequestsHandle,
        }
        | _POLICY_READ
    ),
    # Support engineers reach an organisation only through an approved access grant; a
    # request a subject makes to them by e-mail or phone they record in the DPO's queue.
    AppRole.SupportEngineer: frozenset({_P.FacitoRequestsFile}),
}


# What every person signed in with a delegated token of an organisation may do, whatever their
# roles: see their own profile, products, preferences and data, and set their preferences
# (routes under /v1/me find the account by the token's object id).
SELF_PERMISSIONS = frozenset(
    {
        _P.SelfProfileRead,
        _P.SelfPreferencesRead,
        _P.SelfPreferencesWrite,
        _P.SelfDataRead,
        _P.SelfRequestsRead,
        _P.SelfRequestsFile,
    }
)


# What a SCIM bearer token may do (scim/auth.py): provision the organisation's accounts and
# groups, nothing else.
SCIM_TOKEN_PERMISSIONS = frozenset(
    {_P.AccountsRead, _P.AccountsWrite, _P.GroupsRead, _P.GroupsWrite}
)


def permissions_for(roles: frozenset[AppRole]) -> frozenset[Permission]:
    """Union of the permissions of the given roles."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)
