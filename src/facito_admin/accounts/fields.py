"""The fields of an account, once: how each is stored, who writes it, what SCIM and Graph call it.

Everything else that knows an account's fields reads this table: the model's column lengths
(models.py), the REST schemas (schemas.py), what the services let callers set (service.py), the
list's columns and rendering (listing.py), the Graph properties a directory sync selects and
copies (directory_sync/), SCIM's attributes, their length checks, filters and /Schemas (scim/),
and the benchmark's bare baseline (bench/bare_app.py). A new profile attribute is one row here
plus its column: the typed line in models.py (its length comes from here) and a migration.
tests/api/accounts/test_account_fields.py holds all of them to the table.

Pure data, standard library only: the bare benchmark reads it without loading the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class AccountStatus(StrEnum):
    active = "active"
    disabled = "disabled"
    deleted = "deleted"


class AccountSource(StrEnum):
    manual = "manual"
    graph = "graph"
    scim = "scim"


class Kind(StrEnum):
    """What a field holds; decides its column type, JSON form and schema field."""

    text = "text"
    uuid = "uuid"
    instant = "instant"  # an aware UTC datetime; JSON `…Z`
    date = "date"
    bool = "bool"
    enum = "enum"  # a StrEnum (Field.enum) stored as its value


class Access(StrEnum):
    """Who writes a field, and so where it appears."""

    system = "system"  # the application (lifecycle, sync): read-only in the REST API
    create = "create"  # chosen on create over REST (Field.choices), then changed by actions
    editable = "editable"  # administrators over REST, integrations over SCIM and Graph
    integration = "integration"  # provisioning only; not in the REST API


class Check(StrEnum):
    """What a written value must look like beyond its kind and length (schemas.py)."""

    upn = "upn"  # user@domain
    email = "email"
    guid = "guid"  # an Entra object id; the pattern fixes its length
    past = "past"  # a day not in the future, after 1900


@dataclass(frozen=True)
class ScimPath:
    """Where a field sits in a SCIM User: `title`, `name.givenName`, or in the enterprise
    extension (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User)."""

    attribute: str
    enterprise: bool = False


def core(attribute: str) -> ScimPath:
    """An attribute of the core User schema (RFC 7643 §4.1)."""
    return ScimPath(attribute)


def enterprise(attribute: str) -> ScimPath:
    """An attribute of the enterprise User extension (RFC 7643 §4.3)."""
    return ScimPath(attribute, enterprise=True)


@dataclass(frozen=True)
class Field:
    """One field of an account."""

    name: str  # the column's and the REST API's
    kind: Kind
    max_length: int | None = None  # text: the column's length, checked on every way in
    nullable: bool = True
    access: Access = Access.system
    required: bool = False  # must be given on create
    check: Check | None = None
    # No two accounts of an organisation share it (service.py checks, models.py indexes).
    unique: bool = False
    # The casefolded column that uniqueness, sorting and search compare (as long as the field).
    key: str | None = None
    enum: type[StrEnum] | None = None
    choices: tuple[StrEnum, ...] = ()  # Access.create: what a caller may choose; first by default
    scim: ScimPath | None = None
    graph: str | None = None  # the Graph user property a directory sync reads it from
    description: str | None = None  # OpenAPI, where the field is written (input schemas)
    output_description: str | None = None  # OpenAPI, where it is read (AccountSchema)
    # The Account property AccountSchema shows instead of the column (the list computes it too).
    computed_as: str | None = None

    def __post_init__(self) -> None:
        if (self.kind is Kind.text) != (self.max_length is not None):
            raise ValueError(f"{self.name}: text fields, and only they, have a max_length")
        if (self.kind is Kind.enum) != (self.enum is not None):
            raise ValueError(f"{self.name}: enum fields, and only they, name their enum")
        if (self.access is Access.create) != bool(self.choices):
            raise ValueError(f"{self.name}: create-only fields, and only they, have choices")

    @property
    def shown(self) -> bool:
        """Whether the REST API returns it (AccountSchema, the list)."""
        return self.access is not Access.integration


_UPN_DOC = "user@domain; unique among live accounts, case-insensitive"
_TABLE = (
    Field("id", Kind.uuid, nullable=False, scim=core("id")),
    Field("organisation_id", Kind.uuid, nullable=False),
    Field(
        "user_principal_name",
        Kind.text,
        320,
        nullable=False,
        access=Access.editable,
        required=True,
        check=Check.upn,
        unique=True,
        key="upn_key",
        scim=core("userName"),
        graph="userPrincipalName",
        description=_UPN_DOC,
    ),
    Field(
        "email",
        Kind.text,
        320,
        access=Access.editable,
        check=Check.email,
        unique=True,
        key="email_key",
        scim=core("emails.value"),
        graph="mail",
        description="Unique",
    ),
    # The address's SCIM `type` and `primary` as a provisioning client sent them (scim/
    # resources.py returns them as sent); unset for addresses given over REST.
    Field("email_type", Kind.text, 32, access=Access.integration, scim=core("emails.type")),
    Field("email_primary", Kind.bool, access=Access.integration, scim=core("emails.primary")),
    Field(
        "display_name",
        Kind.text,
        256,
        nullable=False,
        access=Access.editable,
        required=True,
        key="name_key",
        scim=core("displayName"),
        graph="displayName",
    ),
    Field(
        "given_name",
        Kind.text,
        100,
        access=Access.editable,
        scim=core("name.givenName"),
        graph="givenName",
    ),
    Field(
        "family_name",
        Kind.text,
        100,
        access=Access.editable,
        scim=core("name.familyName"),
        graph="surname",
    ),
    Field(
        "employee_number",
        Kind.text,
        64,
        access=Access.editable,
        scim=enterprise("employeeNumber"),
        graph="employeeId",
    ),
    Field(
        "department",
        Kind.text,
        100,
        access=Access.editable,
        scim=enterprise("department"),
        graph="department",
    ),
    # Profile attributes provisioning systems send (Entra's SCIM mapping: title,
    # preferredLanguage, …; the enterprise extension's costCenter, division, organization).
    Field("job_title", Kind.text, 128, access=Access.editable, scim=core("title")),
    Field("nick_name", Kind.text, 64, access=Access.editable, scim=core("nickName")),
    Field(
        "user_type",
        Kind.text,
        64,
        access=Access.editable,
        scim=core("userType"),
        description="e.g. Employee, Contractor",
    ),
    Field(
        "preferred_language",
        Kind.text,
        64,
        access=Access.editable,
        scim=core("preferredLanguage"),
        description="e.g. nl-NL",
    ),
    Field(
        "locale",
        Kind.text,
        64,
        access=Access.editable,
        scim=core("locale"),
        description="e.g. nl-NL",
    ),
    Field(
        "timezone",
        Kind.text,
        64,
        access=Access.editable,
        scim=core("timezone"),
        description="e.g. Europe/Amsterdam",
    ),
    Field("cost_center", Kind.text, 64, access=Access.editable, scim=enterprise("costCenter")),
    Field("division", Kind.text, 100, access=Access.editable, scim=enterprise("division")),
    Field(
        "company",
        Kind.text,
        100,
        access=Access.editable,
        scim=enterprise("organization"),
        description="The company or organisation name the employee works for",
    ),
    Field(
        "manager_id",
        Kind.uuid,
        access=Access.editable,
        scim=enterprise("manager.value"),
        description="Another account of the organisation",
    ),
    Field(
        "entra_oid",
        Kind.text,
        36,
        access=Access.editable,
        check=Check.guid,
        unique=True,
        graph="id",
        description="Entra object id of the user; stored lowercase, unique",
    ),
    Field("source", Kind.enum, nullable=False, enum=AccountSource),
    Field(
        "external_id",
        Kind.text,
        255,
        access=Access.editable,
        unique=True,
        scim=core("externalId"),
        description="Id in the provisioning system (case-exact, unique)",
    ),
    Field(
        "status",
        Kind.enum,
        nullable=False,
        access=Access.create,
        enum=AccountStatus,
        choices=(AccountStatus.active, AccountStatus.disabled),
        scim=core("active"),
        graph="accountEnabled",
        description="`active` (default) or `disabled`",
    ),
    Field("status_changed_at", Kind.instant, nullable=False),
    Field("deleted_at", Kind.instant),
    Field(
        "purge_after",
        Kind.instant,
        output_description="A deleted account is removed for good after this instant",
    ),
    Field("birth_date", Kind.date, access=Access.editable, check=Check.past),
    Field(
        "is_minor",
        Kind.bool,
        nullable=False,
        access=Access.editable,
        description="Only without a birth date; with one it is derived from it",
        output_description="Below the policy's age of consent today",
        computed_as="minor_now",
    ),
    Field("guardian_consent_at", Kind.instant),
    Field("created_at", Kind.instant, nullable=False, scim=core("meta.created")),
    Field("updated_at", Kind.instant, nullable=False, scim=core("meta.lastModified")),
)

# The fields by name, in the table's order (AccountSchema's).
FIELDS: Mapping[str, Field] = MappingProxyType({field.name: field for field in _TABLE})

# Columns of accounts that are no fields: the casefolded keys (Field.key), bookkeeping of the
# lifecycle, minors and directory sync, and the row version. No API shows or takes them.
INTERNAL_COLUMNS = frozenset(
    {
        *(field.key for field in _TABLE if field.key),
        "deleted_from_status",
        "adult_on",
        "directory_federation_id",
        "version",
    }
)


def max_length(name: str) -> int:
    """The length of a text field's column."""
    length = FIELDS[name].max_length
    if length is None:
        raise ValueError(f"{name} is not a text field")
    return length
