"""Per-organisation SCIM bearer tokens; the secret is kept only as its sha256."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, new_id, utcnow
from ..db.tenancy import TenantScoped


class ScimToken(TenantScoped, Base):
    """A bearer token a provisioning client (Entra ID, a script) uses on /scim/v2.

    The token string names its organisation and id (scim/tokens.py), so the lookup is one
    primary-key read in a session already bound to that organisation (row-level security
    applies); the secret part is compared by hash in constant time.
    """

    __tablename__ = "scim_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    description: Mapped[str] = mapped_column(String(200))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who created it: the actor's display name and object id, as the audit event has them.
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Written at most once a minute per token (scim/auth.py), not on every request.
    last_used_at: Mapped[datetime | None]
