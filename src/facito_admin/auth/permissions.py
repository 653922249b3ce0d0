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
    # Ask for a signed checkpoint of the audit chain head now (the daily one needs nobody).
    AuditCheckpointsWrite = "org:audit-checkpoints:write"
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
    # Support access: the requests of Facito staff to act inside the organisation (read), the
    # decision on them (approve, deny, revoke), and the log of every call staff made here.
    SupportAccessRead = "org:support-access:read"
    SupportAccessDecide = "org:support-access:decide"
    AccessLogRead = "org:access-log:read"
    # Incidents at Facito that concern the organisation (incidents/): read them and their
    # 72-hour clock; record that the authority was notified, or why not (art. 33(1)).
    IncidentsRead = "org:incidents:read"
    IncidentsAssess = "org:incidents:assess"
    # The organisation's full export (offboarding/): list and download, start one.
    ExportsRead = "org:exports:read"
    ExportsWrite = "org:exports:write"
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
    # Ask an organisation for access (support engineers, operators), follow and end one's own.
    SupportAccessRequest = "facito:support-access:request"
    # Incidents Facito records and notifies to the affected organisations (art. 33(2)).
    FacitoIncidentsRead = "facito:incidents:read"
    FacitoIncidentsWrite = "facito:incidents:write"
    # Certificates of offboarded organisations' data deleted after the return period.
    OffboardingCertificatesRead = "facito:offboarding-certificates:read"


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
_INCIDENTS_READ = frozenset({_P.IncidentsRead})
# Those who answer to the supervisory authority for the organisation (the controller).
_INCIDENTS_ASSESS = _INCIDENTS_READ | {_P.IncidentsAssess}
# Facito's DPO and its operators both record incidents: whoever is on duty when one happens.
_FACITO_INCIDENTS = frozenset({_P.FacitoIncidentsRead, _P.FacitoIncidentsWrite})
_DATA_READ = frozenset(
    {
        _P.DataRecordsRead,
        _P.PreferencesRead,
        _P.GuardianConsentsRead,
        _P.LegalHoldsRead,
        _P.RetentionRead,
    }
)
_SUPPORT_ACCESS_READ = frozenset({_P.SupportAccessRead, _P.AccessLogRead})
_SUPPORT_ACCESS_DECIDE = _SUPPORT_ACCESS_READ | {_P.SupportAccessDecide}
# Those who answer for the organisation's data: its administrators and privacy officers.
_DATA_CONTROL = _DATA_READ | {
    # The full export of everything (GDPR art. 28(3)(g): the return of the data).
    _P.ExportsRead,
    _P.ExportsWrite,
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
        {
            _P.OrganisationRead,
            _P.FederationsRead,
            _P.DomainsRead,
            _P.DomainsWrite,
            _P.AuditRead,
            _P.AuditCheckpointsWrite,
        }
        # Administrators decide who from Facito gets in, and see what staff did.
        | _SUPPORT_ACCESS_DECIDE
        | _ACCOUNTS_WRITE
        | _JOBS_WRITE
        | _SYNC_WRITE
        | _POLICY_READ
        | _NOTICES_WRITE
        # Only administrators hand out provisioning credentials (a SCIM token writes accounts).
        | _SCIM_TOKENS_WRITE
        | _WEBHOOKS_WRITE
        | _DATA_CONTROL
        | _INCIDENTS_ASSESS
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
        | _SUPPORT_ACCESS_READ
        | _INCIDENTS_READ
    ),
    # The organisation's privacy officer acknowledges Facito's statement changes too, and
    # answers for the data linked to the accounts (holds, guardians, preferences, content).
    AppRole.PrivacyOfficer: frozenset(
        {_P.OrganisationRead, _P.AuditRead}
        | _SUPPORT_ACCESS_READ
        | _NOTICES_WRITE
        | _POLICY_READ
        | _ACCOUNTS_READ
        | _DATA_CONTROL
        | _INCIDENTS_ASSESS
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
            # Operators record contracts against the statement: they see its drafts coming,
            # and which organisations acknowledged a change; they write neither.
            _P.StatementsReadDrafts,
            _P.NoticesRead,
            _P.ObjectionsRead,
            _P.FacitoAuditRead,
            # Anything personal (accounts, linked data, requests, jobs, the audit log) they
            # reach only through a support grant the organisation approved, like anyone.
            _P.SupportAccessRequest,
            _P.OffboardingCertificatesRead,
        }
        # A directory sync only mirrors the customer's own directory, so operators may start
        # one after onboarding a federation, and follow it (counts, no personal data).
        | _SYNC_WRITE
        # Operators record the contracts they negotiated.
        | _POLICY_READ
        | {_P.ContractsWrite}
        | _FACITO_INCIDENTS
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
            _P.OffboardingCertificatesRead,
        }
        | _POLICY_READ
        | _FACITO_INCIDENTS
    ),
    # Support engineers reach an organisation only through an approved access grant; a
    # request a subject makes to them by e-mail or phone they record in the DPO's queue.
    # They find the organisation of a ticket in the list of organisations (names, no data).
    AppRole.SupportEngineer: frozenset(
        {_P.FacitoRequestsFile, _P.SupportAccessRequest, _P.OrganisationsList}
    ),
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


# What an offboarded organisation's callers keep during its return period (GDPR art.
# 28(3)(g)): reading, and taking their data with them; auth/context.py intersects their roles'
# permissions with it.
RETURN_PERIOD_PERMISSIONS = frozenset(
    {p for p in Permission if p.value.endswith(":read")} | {_P.ExportsWrite}
)


def permissions_for(roles: frozenset[AppRole]) -> frozenset[Permission]:
    """Union of the permissions of the given roles."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


# Support grants (support_access/): what an approved grant lets Facito staff do inside one
# organisation. A read-only grant reads every kind of resource but those below; a read-write
# grant also changes the kinds it names. The content of linked data is read only where a grant
# names `data-content`.
class GrantAccess(StrEnum):
    ReadOnly = "read-only"
    ReadWrite = "read-write"


# Never granted: who gets in and what staff did (the organisation's own to decide and to
# watch), and the full export of the organisation (its data leaves in one file).
NEVER_GRANTED_KINDS = frozenset({"support-access", "access-log", "exports"})
# The kinds a read-write grant may change. Not among them: credentials and endpoints that would
# outlive the grant (SCIM tokens, webhooks), and the controller's own decisions (legal holds,
# retention runs, data-subject requests, guardian consents, statement notices).
WRITABLE_KINDS = frozenset(
    {
        "accounts",
        "entitlements",
        "groups",
        "directory-syncs",
        "jobs",
        "data-records",
        "preferences",
        "domains",
    }
)
CONTENT_KIND = "data-content"
GRANTABLE_KINDS = WRITABLE_KINDS | {CONTENT_KIND}


def _kind(permission: Permission) -> tuple[str, str, str]:
    scope, kind, action = permission.value.split(":")
    return scope, kind, action


def grant_permissions(access: GrantAccess, kinds: frozenset[str]) -> frozenset[Permission]:
    """What a grant of ``access`` naming ``kinds`` lets its holder do in the organisation."""
    granted: set[Permission] = set()
    for permission in Permission:
        scope, kind, action = _kind(permission)
        if scope != "org" or kind in NEVER_GRANTED_KINDS:
            continue
        if kind == CONTENT_KIND:
            if kind in kinds:
                granted.add(permission)
        elif action == "read" or (access is GrantAccess.ReadWrite and kind in kinds):
            granted.add(permission)
    return frozenset(granted)
