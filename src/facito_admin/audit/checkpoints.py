"""Signed checkpoints of an organisation's chain head: made, stored, listed, and read back.

A chain alone proves nothing against someone who rewrites an event and then every later hash
and the head: the rewritten chain verifies. A checkpoint closes that gap. It is a compact JWS
(ES256, auth/audit_keys.py) of the organisation id and its chain head (seq, hash) at an
instant, which the customer keeps outside Facito (the `audit.checkpoint` webhook, or the list).
Given back to `/verify?checkpoint=` (verification.py), it proves that today's chain extends it:
the event at its seq still has its hash and the chain from there to today's head holds.

What is signed is the chain head row (audit_chain_heads): what is sealed into the chain. A
checkpoint made by a request signs the head as the request found it, before the request's own
`org:audit-log:checkpoint` event, so a checkpoint never covers the event that records it (the
next one does). Checkpoints the daily scan makes record no event: they change nothing, and an
event each would move every head every day.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, not_, select
from sqlalchemy.orm import Session

from ..auth.audit_keys import AuditKeys, SignatureRejected
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..errors import InvalidState, ValidationFailed
from ..runtime import runtime_of
from ..tenants.models import Organisation, OrganisationStatus
from .chain import TIMESTAMP_FORMAT, canonical_timestamp
from .models import AuditChainHead, AuditCheckpoint
from .service import require_audit_chain

# The JWS `typ` of a checkpoint: a Facito audit key signs nothing else under it.
CHECKPOINT_TYPE = "facito-audit-checkpoint+jws"
_CLAIMS = ("organisation_id", "seq", "hash", "issued_at")
_HASH = re.compile(r"^[0-9a-f]{64}$")


class MadeBy(StrEnum):
    schedule = "schedule"
    request = "request"


class CheckpointRejected(ValidationFailed):
    """A checkpoint given to /verify that is not one of ours for this organisation."""

    code, title = "checkpoint-rejected", "The checkpoint was rejected"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail, errors={"checkpoint": [detail]}, location="query")
        self.extra = {"reason": reason}


@dataclass(frozen=True)
class CheckpointClaims:
    """What a checkpoint says: the organisation's head (seq, hash) at ``issued_at``."""

    organisation_id: uuid.UUID
    seq: int
    hash: str
    issued_at: datetime
    key_id: str

    def payload(self) -> bytes:
        """The signed JSON (sorted keys, no spaces); the key id is in the JWS header."""
        document = {
            "organisation_id": str(self.organisation_id),
            "seq": self.seq,
            "hash": self.hash,
            "issued_at": canonical_timestamp(self.issued_at),
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _claims(payload: bytes, key_id: str) -> CheckpointClaims:
    """The claims of a verified payload; ValueError when they are not a checkpoint's."""
    document: Any = json.loads(payload)
    if not isinstance(document, dict) or sorted(document) != sorted(_CLAIMS):
        raise ValueError("not the claims of a checkpoint")
    seq, digest, issued = document["seq"], document["hash"], document["issued_at"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise ValueError("seq")
    if not isinstance(digest, str) or not _HASH.match(digest):
        raise ValueError("hash")
    if not isinstance(issued, str) or not isinstance(document["organisation_id"], str):
        raise ValueError("issued_at")  # noqa: TRY004 - every malformed claim is one ValueError
    return CheckpointClaims(
        organisation_id=uuid.UUID(document["organisation_id"]),
        seq=seq,
        hash=digest,
        issued_at=datetime.strptime(issued, TIMESTAMP_FORMAT).replace(tzinfo=UTC),
        key_id=key_id,
    )


def read_checkpoint_token(
    keys: AuditKeys, token: str, *, organisation_id: uuid.UUID
) -> CheckpointClaims:
    """The claims of a checkpoint signed by one of our keys for this organisation.

    Raises CheckpointRejected (422) naming the reason: malformed, unsupported-algorithm,
    wrong-type, unknown-key, bad-signature, or other-organisation (nothing of that
    organisation's chain is looked at).
    """
    try:
        key_id, payload = keys.open(token, typ=CHECKPOINT_TYPE)
    except SignatureRejected as exc:
        raise CheckpointRejected(exc.reason, f"the checkpoint is not valid: {exc}") from None
    try:
        claims = _claims(payload, key_id)
    except ValueError:
        raise CheckpointRejected("malformed", "the checkpoint's claims are malformed") from None
    if claims.organisation_id != organisation_id:
        raise CheckpointRejected("other-organisation", "the checkpoint is not of this organisation")
    return claims


def checkpoint_due(session: Session) -> bool:
    """Whether the organisation's head moved since its last checkpoint (and has any event)."""
    head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).first()
    if head is None or head.seq == 0:
        return False
    covered = session.scalar(
        select(AuditCheckpoint.id)
        .where(AuditCheckpoint.seq == head.seq, AuditCheckpoint.hash == head.hash)
        .limit(1)
    )
    return covered is None


def issue_checkpoint(session: Session, *, made_by: MadeBy) -> AuditCheckpoint:
    """Sign and store a checkpoint of the organisation's chain head as it is now."""
    organisation_id = require_audit_chain(session)
    head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one()
    if head.seq == 0:
        raise InvalidState("the audit chain has no events yet: nothing to checkpoint")
    keys = runtime_of(session).audit_keys
    claims = CheckpointClaims(
        organisation_id=organisation_id,
        seq=head.seq,
        hash=head.hash,
        issued_at=utcnow(),
        key_id=keys.kid,
    )
    checkpoint = AuditCheckpoint(
        organisation_id=organisation_id,
        seq=claims.seq,
        hash=claims.hash,
        issued_at=claims.issued_at,
        key_id=claims.key_id,
        made_by=made_by.value,
        jws=keys.sign(typ=CHECKPOINT_TYPE, payload=claims.payload()),
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def list_checkpoints(session: Session, *, limit: int, cursor: str | None) -> Page[AuditCheckpoint]:
    """One keyset page of the organisation's checkpoints, newest first."""
    require_audit_chain(session)
    return paginate(
        session,
        select(AuditCheckpoint),
        keys=[AuditCheckpoint.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def organisations_due_checkpoint(session: Session, now: datetime) -> list[uuid.UUID]:
    """Across organisations: those whose head moved since their last checkpoint.

    An offboarded organisation past its return period is left out, as by every periodic scan
    (jobs.enqueue_once_per_organisation): what remains of it is the offboarding deletion's.
    """
    past_return = and_(
        Organisation.status == OrganisationStatus.offboarded,
        Organisation.data_return_until.is_not(None),
        Organisation.data_return_until <= now,
    )
    checkpointed = exists(
        select(AuditCheckpoint.id).where(
            AuditCheckpoint.organisation_id == AuditChainHead.organisation_id,
            AuditCheckpoint.seq == AuditChainHead.seq,
            AuditCheckpoint.hash == AuditChainHead.hash,
        )
    )
    query = (
        select(AuditChainHead.organisation_id)
        .join(Organisation, Organisation.id == AuditChainHead.organisation_id)
        .where(
            AuditChainHead.seq > 0,
            not_(checkpointed),
            not_(past_return),
        )
        .order_by(AuditChainHead.organisation_id)
    )
    return list(session.scalars(query))
