"""What an organisation's full export holds: every kind of its data, read from one snapshot.

The return of the data at the end of the contract (GDPR art. 28(3)(g)): the organisation's
profile with its federations and domains, then one JSON lines member per kind of data
(:data:`MEMBERS`: accounts, products, groups and memberships, linked data records with their
content, preference history, guardian consents, legal holds, data-subject requests, processing
restrictions, contracts, deletion certificates, webhook endpoints without their secrets, the
audit log, statement and incident notices, support access requests, SCIM tokens without their
hashes), the preferences now of each account that changed any, and ``manifest.json`` last
with the counts and the size and SHA-256 of every other member.

Every member is read in keyset pages of :data:`BATCH` rows and spooled (common/archives.py),
so memory stays flat however large the organisation. The columns are the tables' own: a
column added to a table is exported without a change here, except secrets, which
:data:`MEMBERS` leaves out by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, inspect, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session
from stream_zip import MemberFile, stream_zip

from ..accounts.models import Account, ProcessingRestriction
from ..audit.models import AuditCheckpoint, AuditEvent
from ..common.archives import MemberSpool, json_line
from ..consents.models import GuardianConsent, PreferenceChange
from ..consents.schemas import PreferencesSchema
from ..consents.service import get_preferences
from ..groups.models import Group, GroupMember
from ..incidents.models import IncidentNotice
from ..policies.models import Contract, OrganisationNotice
from ..products.models import Entitlement
from ..retention.models import DeletionCertificate, LegalHold
from ..scim.models import ScimToken
from ..subject_requests.models import SubjectRequest
from ..support_access.models import SupportAccessRequest
from ..tenants.models import EmailDomain, Federation, Organisation
from ..user_data.models import DataRecord
from ..webhooks.models import WebhookEndpoint

BATCH = 1000
MANIFEST = "manifest.json"
FORMAT = "facito-organisation-export/1"


@dataclass(frozen=True)
class Member:
    """One JSON lines member: a tenant table, in the order of its keys, minus secrets."""

    name: str
    model: type[Any]
    omit: frozenset[str] = frozenset()
    # The keyset order; the primary key without the organisation by default.
    order: tuple[str, ...] = ()

    def columns(self) -> list[InstrumentedAttribute[Any]]:
        """The model's column attributes that go into the export."""
        return [
            getattr(self.model, attr.key)
            for attr in inspect(self.model).column_attrs
            if attr.key not in self.omit
        ]

    def keys(self) -> list[InstrumentedAttribute[Any]]:
        """The columns of the keyset order."""
        names = self.order or tuple(
            c.key for c in self.model.__table__.primary_key.columns if c.key != "organisation_id"
        )
        return [getattr(self.model, name) for name in names]


# What the export holds; the deletion after the return period (deletion.py) walks every tenant
# table instead, so a table missing here is still deleted (tests/api/offboarding check both).
MEMBERS: tuple[Member, ...] = (
    Member("accounts.jsonl", Account),
    Member("entitlements.jsonl", Entitlement),
    Member("groups.jsonl", Group),
    Member("group-members.jsonl", GroupMember),
    Member("data-records.jsonl", DataRecord),
    Member("preference-changes.jsonl", PreferenceChange),
    Member("guardian-consents.jsonl", GuardianConsent),
    Member("legal-holds.jsonl", LegalHold),
    Member("data-subject-requests.jsonl", SubjectRequest),
    Member("processing-restrictions.jsonl", ProcessingRestriction),
    Member("contracts.jsonl", Contract),
    Member("deletion-certificates.jsonl", DeletionCertificate),
    # The signing secret is Facito's means of signing deliveries, not the organisation's data.
    Member("webhook-endpoints.jsonl", WebhookEndpoint, omit=frozenset({"secret_encrypted"})),
    Member("audit-events.jsonl", AuditEvent, order=("seq",)),
    # The signed checkpoints of the chain head: the JWS of each verifies with Facito's keys.
    Member("audit-checkpoints.jsonl", AuditCheckpoint),
    # Facito's notices to the organisation: statement changes (and objections), incidents.
    Member("statement-notices.jsonl", OrganisationNotice),
    Member("incident-notices.jsonl", IncidentNotice),
    # Who from Facito asked for access, and what was decided (the calls are in the audit log).
    Member("support-access-requests.jsonl", SupportAccessRequest),
    # Provisioning credentials, without the hash of their secret.
    Member("scim-tokens.jsonl", ScimToken, omit=frozenset({"secret_sha256"})),
)

# Tables with an organisation_id the export leaves out, and why (tests/api/offboarding check
# that every such table is exported, in the profile, or here).
NOT_EXPORTED: dict[str, str] = {
    "idempotency_records": "stored answers to retried requests, kept 24 hours",
    "audit_chain_heads": "the chain's last link: audit-events.jsonl holds every hash",
    "audit_prune_checkpoints": "where pruning left the chain; the pruned events are gone",
    "audit_pending_events": "events of the last moment, not yet sealed into the chain: sealed "
    "right after their commit, they are in audit-events.jsonl of any later export",
    "jobs": "the service's own work queue (its results are in the audit log)",
    "directory_sync_states": "where the next delta sync resumes in Microsoft Graph",
    "directory_sync_seen": "what a running directory sync found so far, dropped at its end",
    "webhook_deliveries": "delivery attempts of events already in the audit log",
    "organisation_exports": "the exports themselves",
    "offboarding_certificates": "Facito's record of the deletion, made after the export",
    "incident_organisations": "Facito's list of whom an incident affects (the notice is here)",
}


def _pages(
    session: Session, member: Member, organisation_id: uuid.UUID
) -> Iterator[list[dict[str, Any]]]:
    """The member's rows of the organisation as dicts, a keyset page at a time."""
    columns, keys = member.columns(), member.keys()
    after: tuple[Any, ...] | None = None
    while True:
        # Said outright: the session's scoping covers tenant tables, not the global ones that
        # keep rows per organisation (support access requests).
        query = (
            select(*columns)
            .where(member.model.organisation_id == organisation_id)
            .order_by(*keys)
            .limit(BATCH)
        )
        if after is not None:
            position: ColumnElement[bool] = (
                keys[0] > after[0] if len(keys) == 1 else tuple_(*keys) > tuple_(*after)
            )
            query = query.where(position)
        rows = session.execute(query).all()
        if rows:
            yield [row._asdict() for row in rows]
        if len(rows) < BATCH:
            return
        last = rows[-1]._asdict()
        after = tuple(last[k.key] for k in keys)


@dataclass
class OrganisationArchive:
    """The members of one organisation's full export, built while stream-zip consumes them."""

    session: Session
    organisation_id: uuid.UUID
    export_id: uuid.UUID
    job_id: uuid.UUID
    generated_at: datetime
    spool_dir: Path
    progress: Callable[[int, int], None]
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spool = MemberSpool(generated_at=self.generated_at, spool_dir=self.spool_dir)
        self._done = 0
        self._total = 0

    def _count_all(self) -> int:
        return sum(
            self.session.scalar(select(func.count()).select_from(m.model)) or 0 for m in MEMBERS
        )

    def _profile(self) -> MemberFile:
        session, organisation_id = self.session, self.organisation_id
        organisation = session.get(Organisation, organisation_id)
        profile = {
            c.key: getattr(organisation, c.key) for c in Organisation.__table__.c if organisation
        }
        federations = session.execute(
            select(Federation.id, Federation.tenant_id, Federation.display_name)
            .add_columns(Federation.status, Federation.consented_at, Federation.created_at)
            .where(Federation.organisation_id == organisation_id)
            .order_by(Federation.id)
        ).all()
        domains = session.execute(
            select(EmailDomain.id, EmailDomain.domain, EmailDomain.status)
            .add_columns(EmailDomain.verified_at, EmailDomain.created_at)
            .where(EmailDomain.organisation_id == organisation_id)
            .order_by(EmailDomain.id)
        ).all()
        self.counts.update(federations=len(federations), domains=len(domains))
        return self.spool.document(
            "organisation.json",
            profile
            | {
                "federations": [row._asdict() for row in federations],
                "domains": [row._asdict() for row in domains],
            },
        )

    def _table(self, member: Member) -> MemberFile:
        spool = self.spool.spool()
        count = 0
        for rows in _pages(self.session, member, self.organisation_id):
            spool.write(b"".join(json_line(row) for row in rows))
            count += len(rows)
            self._done += len(rows)
            self.progress(self._done, max(self._total, self._done))
        self.counts[member.name.removesuffix(".jsonl").replace("-", "_")] = count
        return self.spool.member(member.name, spool)

    def _preferences(self) -> MemberFile:
        """The preferences now of every account that changed any (the others have the
        effective policy's defaults)."""
        spool = self.spool.spool()
        schema = PreferencesSchema()
        count = 0
        after: uuid.UUID | None = None
        while True:
            query = select(PreferenceChange.account_id).distinct()
            if after is not None:
                query = query.where(PreferenceChange.account_id > after)
            accounts = list(
                self.session.scalars(query.order_by(PreferenceChange.account_id).limit(BATCH))
            )
            for account_id in accounts:
                state = get_preferences(self.session, account_id=account_id)
                spool.write(json_line(schema.dump(state)))
            count += len(accounts)
            if len(accounts) < BATCH:
                break
            after = accounts[-1]
        self.counts["preferences"] = count
        return self.spool.member("preferences.jsonl", spool)

    def _manifest(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "organisation_id": self.organisation_id,
            "export_id": self.export_id,
            "job_id": self.job_id,
            "generated_at": self.generated_at,
            "basis": "the return of the organisation's data at the end of its contract "
            "(GDPR art. 28(3)(g)); Facito is its processor",
            "counts": dict(self.counts),
            "notes": {
                "json_lines": "each .jsonl member holds one JSON object per line, the table's "
                "columns as stored",
                "webhook_endpoints": "signing secrets are left out",
                "preferences": "accounts without a line have the effective policy's defaults",
                "audit_events": "the organisation's audit chain in order; it verifies with the "
                "hashes it carries",
                "audit_checkpoints": "signed checkpoints of the chain head (compact JWS, keys at "
                "/.well-known/facito-audit-keys)",
            },
            "files": self.spool.files(),
        }

    def members(self) -> Iterator[MemberFile]:
        """Every member, the manifest last (built after the others were written)."""
        self._total = self._count_all()
        self.progress(0, self._total)
        yield self._profile()
        for member in MEMBERS:
            yield self._table(member)
        yield self._preferences()
        yield self.spool.document(MANIFEST, self._manifest())

    def zipped(self) -> Iterable[bytes]:
        """The archive's bytes, as stream-zip makes them."""
        return stream_zip(self.members())
