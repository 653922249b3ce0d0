"""The demo organisation `make run` starts with: federated with a fake tenant, development only."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from .audit.service import record_event
from .auth.context import SYSTEM_PRINCIPAL, RequestContext
from .db.base import utcnow
from .db.session import unit_of_work
from .organisations import service as organisations
from .organisations.actions import OrganisationAction
from .runtime import Runtime
from .tenants.models import Federation, FederationStatus, Organisation

DEMO_SLUG = "demo"
DEMO_TENANT_ID = "11111111-1111-4111-8111-111111111111"


def ensure_demo_organisation(runtime: Runtime) -> Organisation:
    """Create the demo organisation and its active federation once; return it."""
    ctx = RequestContext(principal=SYSTEM_PRINCIPAL, request_id=f"demo-{uuid.uuid4().hex[:8]}")
    with unit_of_work(runtime, organisation_id=None) as session:
        existing = session.scalar(select(Organisation).where(Organisation.slug == DEMO_SLUG))
        if existing is not None:
            return existing
        organisation = organisations.create_organisation(
            session,
            ctx,
            slug=DEMO_SLUG,
            name="Demo Organisation B.V.",
            primary_region="transip-nl-amsterdam",
            backup_region="transip-nl-delft",
        )
        # Development shortcut: the demo tenant is fake, so there is no admin consent to prove.
        federation = Federation(
            organisation_id=organisation.id,
            tenant_id=DEMO_TENANT_ID,
            display_name="Demo tenant (development)",
            status=FederationStatus.active,
            consented_at=utcnow(),
        )
        session.add(federation)
        session.flush()
        record_event(
            session,
            ctx,
            action=OrganisationAction.FederationActivate,
            target_type="federation",
            target_id=federation.id,
            details={"tenant_id": DEMO_TENANT_ID, "development_seed": True},
        )
        return organisation
