"""Employee accounts of an organisation: identity attributes, lifecycle, minors."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, Timestamped, Versioned, new_id, string_enum, utcnow
from ..db.tenancy import TenantScoped

# The enums live with the field table; importing them from here goes on working.
from .fields import AccountSource as AccountSource  # noqa: PLC0414 - an explicit re-export
from .fields import AccountStatus as AccountStatus  # noqa: PLC0414 - an explicit re-export
from .fields import max_length

# The partial unique indexes below and migration 0002 repeat this predicate.
NOT_DELETED = "status <> 'deleted'"


def _text(field: str) -> String:
    """The column type of a text field (or of its key): its length is the field table's."""
    return String(max_length(field))


class Account(TenantScoped, Versioned, Timestamped, Base):
    """An employee's account; `*_key` columns hold the casefolded forms that uniqueness,
    sorting and search use, so that no query needs a function over a column."""

    __tablename__ = "accounts"
    __table_args__ = (
        # A deleted account frees its UPN and e-mail (as Entra's deleted users do); restoring
        # it checks they are still free. Object id and external id stay taken until the purge.
        # `info["field"]` names the API field each guards: a write that loses a race to another
        # account's (IntegrityError) is answered naming it (db/integrity.py).
        Index(
            "uq_accounts_upn_key",
            "organisation_id",
            "upn_key",
            unique=True,
            sqlite_where=text(NOT_DELETED),
            postgresql_where=text(NOT_DELETED),
            info={"field": "user_principal_name"},
        ),
        Index(
            "uq_accounts_email_key",
            "organisation_id",
            "email_key",
            unique=True,
            sqlite_where=text(NOT_DELETED),
            postgresql_where=text(NOT_DELETED),
            info={"field": "email"},
        ),
        UniqueConstraint("organisation_id", "entra_oid", info={"field": "entra_oid"}),
        UniqueConstraint("organisation_id", "external_id", info={"field": "external_id"}),
        # The list: one index per filter and sort (sort=created uses the primary key).
        Index("ix_accounts_org_name", "organisation_id", "name_key", "id"),
        Index("ix_accounts_org_status", "organisation_id", "status", "id"),
        Index("ix_accounts_org_status_name", "organisation_id", "status", "name_key", "id"),
        Index("ix_accounts_org_department", "organisation_id", "department", "id"),
        Index("ix_accounts_org_department_name", "organisation_id", "department", "name_key", "id"),
        Index("ix_accounts_org_source", "organisation_id", "source", "id"),
        # Finding an account's reports (purge detaches them; the foreign key checks them).
        Index("ix_accounts_org_manager", "organisation_id", "manager_id"),
        Index("ix_accounts_org_purge_after", "organisation_id", "purge_after"),
        ForeignKeyConstraint(
            ["organisation_id", "manager_id"], ["accounts.organisation_id", "accounts.id"]
        ),
        CheckConstraint(
            "status <> 'deleted' OR (deleted_at IS NOT NULL AND purge_after IS NOT NULL)",
            name="deleted_has_purge_after",
        ),
        {"info": {"resource": "account"}},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_principal_name: Mapped[str] = mapped_column(_text("user_principal_name"))
    upn_key: Mapped[str] = mapped_column(_text("user_principal_name"))
    email: Mapped[str | None] = mapped_column(_text("email"))
    email_key: Mapped[str | None] = mapped_column(_text("email"))
    # The address's SCIM `type` and `primary` as a provisioning client sent them (scim/
    # resources.py returns them as sent); unset for addresses given over REST.
    email_type: Mapped[str | None] = mapped_column(_text("email_type"))
    email_primary: Mapped[bool | None]
    display_name: Mapped[str] = mapped_column(_text("display_name"))
    name_key: Mapped[str] = mapped_column(_text("display_name"))
    given_name: Mapped[str | None] = mapped_column(_text("given_name"))
    family_name: Mapped[str | None] = mapped_column(_text("family_name"))
    employee_number: Mapped[str | None] = mapped_column(_text("employee_number"))
    department: Mapped[str | None] = mapped_column(_text("department"))
    # Profile attributes provisioning systems send (Entra's SCIM mapping: title,
    # preferredLanguage, …; the enterprise extension's costCenter, division, organization).
    job_title: Mapped[str | None] = mapped_column(_text("job_title"))
    nick_name: Mapped[str | None] = mapped_column(_text("nick_name"))
    user_type: Mapped[str | None] = mapped_column(_text("user_type"))
    preferred_language: Mapped[str | None] = mapped_column(_text("preferred_language"))
    locale: Mapped[str | None] = mapped_column(_text("locale"))
    timezone: Mapped[str | None] = mapped_column(_text("timezone"))
    cost_center: Mapped[str | None] = mapped_column(_text("cost_center"))
    division: Mapped[str | None] = mapped_column(_text("division"))
    company: Mapped[str | None] = mapped_column(_text("company"))
    # Another account of the same organisation (the composite foreign key keeps it so).
    manager_id: Mapped[uuid.UUID | None]
    # Entra object id of the user, lowercase; keys the account for directory sync.
    entra_oid: Mapped[str | None] = mapped_column(_text("entra_oid"))
    source: Mapped[AccountSource] = mapped_column(
        string_enum(AccountSource, "account_source"), default=AccountSource.manual
    )
    # The id the provisioning system knows the account by (SCIM externalId: case-exact).
    external_id: Mapped[str | None] = mapped_column(_text("external_id"))
    status: Mapped[AccountStatus] = mapped_column(
        string_enum(AccountStatus, "account_status"), default=AccountStatus.active
    )
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    purge_after: Mapped[datetime | None]
    # What a restore returns a deleted account to (active or disabled).
    deleted_from_status: Mapped[AccountStatus | None] = mapped_column(
        string_enum(AccountStatus, "account_status")
    )
    birth_date: Mapped[date | None]
    # Set explicitly when the birth date is unknown; otherwise derived at the last write.
    is_minor: Mapped[bool] = mapped_column(default=False)
    # birth_date + the policy's age of consent: the account stops being a minor that day.
    adult_on: Mapped[date | None]
    guardian_consent_at: Mapped[datetime | None]
    # Directory sync (directory_sync/): the federation whose directory the account comes from.
    # A complete full sync soft-deletes the accounts of its federation that it did not find
    # (directory_sync/seen.py).
    directory_federation_id: Mapped[uuid.UUID | None]

    def minor_on(self, day: date) -> bool:
        """Whether the account is a minor's on ``day``."""
        if self.adult_on is not None:
            return day < self.adult_on
        return self.is_minor

    @property
    def minor_now(self) -> bool:
        """Whether the account is a minor's today (UTC)."""
        return self.minor_on(utcnow().date())


# Accounts that hold their UPN and e-mail: the partial unique indexes' predicate (NOT_DELETED)
# written out, not bound, so that it still matches those indexes once PostgreSQL switches a
# prepared statement to a generic plan (a bound status would make every probe scan).
LIVE = Account.status != literal_column("'deleted'")


# At most one restriction in force per account; migration 0011 repeats the predicate.
RESTRICTION_IN_FORCE = "lifted_at IS NULL"


class ProcessingRestriction(TenantScoped, Base):
    """An account whose data may be stored but not otherwise used (GDPR art. 18): left out of
    what integrations read (user_data/service.py) and of advertising (consents/service.py),
    until lifted. Placed by a data-subject request (subject_requests/fulfilment/restriction.py).

    Here, not with the requests, because the linked data and the preferences honour it and
    neither may import subject_requests (it imports them). ``account_id`` has no foreign key:
    the row is the record of what was restricted and lifted, and outlives a purged account.
    """

    __tablename__ = "processing_restrictions"
    __table_args__ = (
        Index("ix_processing_restrictions_org_account", "organisation_id", "account_id"),
        Index(
            "uq_processing_restrictions_in_force",
            "organisation_id",
            "account_id",
            unique=True,
            sqlite_where=text(RESTRICTION_IN_FORCE),
            postgresql_where=text(RESTRICTION_IN_FORCE),
            info={"field": "account_id"},
        ),
        {"info": {"resource": "processing restriction"}},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID]
    request_id: Mapped[uuid.UUID | None]
    reason: Mapped[str] = mapped_column(String(2000))
    restricted_at: Mapped[datetime]
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str | None] = mapped_column(String(2000))
