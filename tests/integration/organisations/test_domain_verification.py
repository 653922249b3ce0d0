"""Domain verification at the service level: DNS is asked without holding the write lock."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from facito_admin.auth.context import SYSTEM_PRINCIPAL, RequestContext
from facito_admin.db.session import end_read_snapshot, unit_of_work
from facito_admin.organisations import domains
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import DomainStatus, EmailDomain
from tests.conftest import Org

CTX = RequestContext(principal=SYSTEM_PRINCIPAL, request_id="test")


def _claim(runtime: Runtime, org: Org, name: str) -> EmailDomain:
    with unit_of_work(runtime, organisation_id=org.id) as session:
        return domains.claim_domain(session, CTX, domain=name)


def test_other_writers_proceed_while_dns_is_asked(runtime: Runtime, org_a: Org, org_b: Org):
    claim = _claim(runtime, org_a, "example.com")
    written_meanwhile: list[str] = []

    def lookup(name: str) -> list[str]:
        # A write of another request while DNS "answers": with the write lock still held by
        # the verifying session this would wait for SQLite's busy timeout and fail.
        written_meanwhile.append(_claim(runtime, org_b, "example.org").domain)
        return [domains.txt_record_value(claim.verification_token)]

    session = runtime.session(organisation_id=org_a.id, write=True)
    try:
        verified = domains.verify_domain(session, CTX, domain_id=claim.id, lookup=lookup)
        session.commit()
    finally:
        session.close()
    assert verified.status is DomainStatus.verified
    assert written_meanwhile == ["example.org"]


def test_a_domain_verified_elsewhere_during_the_lookup_is_refused(
    runtime: Runtime, org_a: Org, org_b: Org
):
    claim_a = _claim(runtime, org_a, "example.com")
    claim_b = _claim(runtime, org_b, "example.com")

    def lookup(name: str) -> list[str]:
        # Organisation A wins the race while B's lookup is under way.
        with unit_of_work(runtime, organisation_id=org_a.id) as other:
            domains.verify_domain(
                other,
                CTX,
                domain_id=claim_a.id,
                lookup=lambda _: [domains.txt_record_value(claim_a.verification_token)],
            )
        return [domains.txt_record_value(claim_b.verification_token)]

    session = runtime.session(organisation_id=org_b.id, write=True)
    try:
        try:
            domains.verify_domain(session, CTX, domain_id=claim_b.id, lookup=lookup)
        except domains.DomainUnavailable:
            pass
        else:
            raise AssertionError("B verified a domain A holds")
    finally:
        session.rollback()
        session.close()
    with runtime.session() as reader:
        statuses = reader.execute(
            select(EmailDomain.organisation_id, EmailDomain.status).where(
                EmailDomain.domain == "example.com"
            )
        ).all()
    assert dict(statuses) == {org_a.id: DomainStatus.verified, org_b.id: DomainStatus.pending}


def test_ending_a_read_snapshot_after_a_write_is_refused(runtime: Runtime, org_a: Org):
    session = runtime.session(organisation_id=org_a.id, write=True)
    try:
        domains.claim_domain(session, CTX, domain="example.net")  # flushed, not committed
        with pytest.raises(RuntimeError, match="discard"):
            end_read_snapshot(session)
        session.rollback()
        end_read_snapshot(session)  # nothing written in this transaction any more
    finally:
        session.close()
