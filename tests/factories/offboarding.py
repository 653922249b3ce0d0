"""An organisation with data of every kind, and what of an organisation is left in the tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select

from facito_admin.accounts.models import AccountStatus
from facito_admin.db.base import Base, utcnow
from facito_admin.db.session import cross_organisation_session, unit_of_work
from facito_admin.groups import service as groups
from facito_admin.retention.models import DeletionCertificate, DeletionKind
from facito_admin.runtime import Runtime
from facito_admin.scim import tokens as scim_tokens
from facito_admin.tenants.models import DomainStatus
from tests.conftest import Org
from tests.factories.accounts import birth_date_for_age, grant, make_account
from tests.factories.audit import admin_ctx
from tests.factories.consents import change_preferences, make_guardian_consent
from tests.factories.domains import add_domain
from tests.factories.incidents import record_incident
from tests.factories.subject_requests import seed_subject_request
from tests.factories.support_access import grant_access
from tests.factories.user_data import PRODUCT, insert_records
from tests.factories.webhooks import make_endpoint

CATEGORIES = ("content.files", "identity.contact")


@dataclass
class Seeded:
    """The ids and e-mail addresses of what was seeded for one organisation."""

    org: Org
    accounts: dict[str, uuid.UUID] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)
    records: list[uuid.UUID] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


def seed_every_kind(runtime: Runtime, org: Org) -> Seeded:
    """Accounts (one managed, one minor with a guardian consent), products, a group with
    members, linked data, preferences, a data-subject request, a deletion certificate, a
    webhook endpoint, a SCIM token, a verified domain, an incident's notice and a support
    grant; audit events come with them."""
    seeded = Seeded(org)
    slug = org.slug
    boss = make_account(runtime, org.id, f"{slug}-boss", email=f"boss@{slug}.example")
    worker = make_account(
        runtime, org.id, f"{slug}-worker", email=f"worker@{slug}.example", manager_id=boss.id
    )
    kid = make_account(
        runtime,
        org.id,
        f"{slug}-kid",
        email=f"kid@{slug}.example",
        birth_date=birth_date_for_age(13),
        status=AccountStatus.disabled,
    )
    seeded.accounts = {"boss": boss.id, "worker": worker.id, "kid": kid.id}
    seeded.emails = [f"boss@{slug}.example", f"worker@{slug}.example", f"kid@{slug}.example"]
    consent = make_guardian_consent(runtime, org.id, kid.id)
    grant(runtime, org.id, boss.id, PRODUCT)
    grant(runtime, org.id, worker.id, PRODUCT)
    for name, account_id in (("boss", boss.id), ("worker", worker.id)):
        for category in CATEGORIES:
            seeded.records += insert_records(
                runtime, org.id, account_id, 2, start=len(seeded.records), category=category
            )
        channel = "email" if name == "boss" else "sms"
        change_preferences(runtime, org.id, account_id, {"channels": {channel: True}})
    with unit_of_work(runtime, organisation_id=org.id) as session:
        group = groups.create_group(
            session, admin_ctx(org.id), display_name="Everyone", member_ids=[boss.id, worker.id]
        )
        certificate = DeletionCertificate(
            kind=DeletionKind.retention,
            started_at=utcnow(),
            removed={"data_records": {"usage.device": 1}},
            removed_total=1,
            kept_by_holds={"total": 0, "categories": {}, "holds": {}},
            basis={},
        )
        session.add(certificate)
        session.flush()
        token, _secret = scim_tokens.create_token(
            session, admin_ctx(org.id), description=f"{slug} provisioning", expires_at=None
        )
        group_id, certificate_id, token_id = group.id, certificate.id, token.id
    request = seed_subject_request(runtime, org.id, n=f"{slug}-subject")
    endpoint = make_endpoint(runtime, org.id, f"https://hooks.{slug}.example/in")
    add_domain(runtime, org, f"{slug}.example", DomainStatus.verified)
    incident_id = record_incident(runtime, [org.id])
    support_request_id = grant_access(runtime, org.id, str(uuid.uuid4()))
    seeded.ids = {
        str(i)
        for i in (
            boss.id,
            worker.id,
            kid.id,
            consent.id,
            group_id,
            certificate_id,
            request.request_id,
            request.account_id,
            endpoint.id,
            token_id,
            incident_id,
            support_request_id,
            *seeded.records,
        )
    }
    return seeded


def rows_left(runtime: Runtime, organisation_id: uuid.UUID) -> dict[str, int]:
    """Rows of the organisation in every table of the metadata with an organisation_id
    (Facito's offboarding certificates aside), those with any."""
    left: dict[str, int] = {}
    with cross_organisation_session(runtime, reason="test: what is left of one organisation") as s:
        for table in Base.metadata.sorted_tables:
            if "organisation_id" not in table.c or table.name == "offboarding_certificates":
                continue
            count = s.scalar(
                select(func.count())
                .select_from(table)
                .where(table.c.organisation_id == organisation_id)
            )
            if count:
                left[table.name] = int(count)
    return left
