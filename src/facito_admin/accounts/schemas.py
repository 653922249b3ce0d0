"""Request and response shapes of accounts."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import (
    UNSTORABLE,
    BirthDate,
    OutputSchema,
    StrictBoolean,
    StrictSchema,
    Text,
)
from .models import AccountSource, AccountStatus

_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UPN = ma.validate.Regexp(r"^[^@\s]+@[^@\s]+$", error="must look like user@domain")
_UPN_DOC = {"description": "user@domain; unique among live accounts, case-insensitive"}


def _text(max_length: int, *validators: Any, **kwargs: Any) -> Text:
    return Text(validate=[ma.validate.Length(min=1, max=max_length), *validators], **kwargs)


def _optional(max_length: int, description: str | None = None) -> Text:
    metadata = {"description": description} if description else {}
    return _text(max_length, allow_none=True, metadata=metadata)


class AccountSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.UUID(required=True)
    user_principal_name = ma.fields.String(required=True)
    email = ma.fields.String(required=True, allow_none=True)
    display_name = ma.fields.String(required=True)
    given_name = ma.fields.String(required=True, allow_none=True)
    family_name = ma.fields.String(required=True, allow_none=True)
    employee_number = ma.fields.String(required=True, allow_none=True)
    department = ma.fields.String(required=True, allow_none=True)
    job_title = ma.fields.String(required=True, allow_none=True)
    nick_name = ma.fields.String(required=True, allow_none=True)
    user_type = ma.fields.String(required=True, allow_none=True)
    preferred_language = ma.fields.String(required=True, allow_none=True)
    locale = ma.fields.String(required=True, allow_none=True)
    timezone = ma.fields.String(required=True, allow_none=True)
    cost_center = ma.fields.String(required=True, allow_none=True)
    division = ma.fields.String(required=True, allow_none=True)
    company = ma.fields.String(required=True, allow_none=True)
    manager_id = ma.fields.UUID(required=True, allow_none=True)
    entra_oid = ma.fields.String(required=True, allow_none=True)
    source = ma.fields.Enum(AccountSource, required=True)
    external_id = ma.fields.String(required=True, allow_none=True)
    status = ma.fields.Enum(AccountStatus, required=True)
    status_changed_at = ma.fields.DateTime(required=True)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)
    purge_after = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "A deleted account is removed for good after this instant"},
    )
    birth_date = ma.fields.Date(required=True, allow_none=True)
    is_minor = ma.fields.Boolean(
        required=True,
        attribute="minor_now",
        metadata={"description": "Below the policy's age of consent today"},
    )
    guardian_consent_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


AccountPageSchema = page_schema(AccountSchema, "AccountPageSchema")


class _AccountFieldsSchema(StrictSchema):
    email = ma.fields.Email(
        allow_none=True, validate=ma.validate.Length(max=320), metadata={"description": "Unique"}
    )
    given_name = _optional(100)
    family_name = _optional(100)
    employee_number = _optional(64)
    department = _optional(100)
    job_title = _optional(128)
    nick_name = _optional(64)
    user_type = _optional(64, "e.g. Employee, Contractor")
    preferred_language = _optional(64, "e.g. nl-NL")
    locale = _optional(64, "e.g. nl-NL")
    timezone = _optional(64, "e.g. Europe/Amsterdam")
    cost_center = _optional(64)
    division = _optional(100)
    company = _optional(100, "The company or organisation name the employee works for")
    manager_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "Another account of the organisation"}
    )
    entra_oid = Text(
        allow_none=True,
        validate=ma.validate.Regexp(_GUID, error="must be an object id (GUID)"),
        metadata={"description": "Entra object id of the user; stored lowercase, unique"},
    )
    external_id = _optional(255, "Id in the provisioning system (case-exact, unique)")
    birth_date = BirthDate(allow_none=True)
    is_minor = StrictBoolean(
        metadata={"description": "Only without a birth date; with one it is derived from it"}
    )

    @ma.validates("email")
    def _email_text(self, value: str | None, **_kwargs: Any) -> None:
        if value is not None and UNSTORABLE.search(value):
            raise ma.ValidationError("must not contain control characters")


class AccountCreateSchema(_AccountFieldsSchema):
    user_principal_name = _text(320, _UPN, required=True, metadata=_UPN_DOC)
    display_name = _text(256, required=True)
    status = ma.fields.String(
        load_default=AccountStatus.active.value,
        validate=ma.validate.OneOf([AccountStatus.active.value, AccountStatus.disabled.value]),
        metadata={"description": "`active` (default) or `disabled`"},
    )


class AccountUpdateSchema(_AccountFieldsSchema):
    """Only the fields sent change; `null` clears an optional field."""

    user_principal_name = _text(320, _UPN, metadata=_UPN_DOC)
    display_name = _text(256)


class AccountQueryArgsSchema(PageArgsSchema):
    status = ma.fields.Enum(
        AccountStatus,
        load_default=None,
        metadata={"description": "Without it, deleted accounts are left out"},
    )
    source = ma.fields.Enum(AccountSource, load_default=None)
    department = Text(
        load_default=None,
        validate=ma.validate.Length(max=100),
        metadata={"description": "Exact department name"},
    )
    q = Text(
        load_default=None,
        validate=ma.validate.Length(max=100),
        metadata={"description": "Case-insensitive substring of display name, e-mail or UPN"},
    )
    sort = ma.fields.String(
        load_default="created",
        validate=ma.validate.OneOf(["created", "name"]),
        metadata={"description": "`created` (default) or `name` (display name)"},
    )
    order = ma.fields.String(
        load_default="asc",
        validate=ma.validate.OneOf(["asc", "desc"]),
        metadata={"description": "`asc` (default) or `desc`"},
    )
