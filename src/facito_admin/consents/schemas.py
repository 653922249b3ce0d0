"""Request and response shapes of preferences and guardian consents."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Any

import marshmallow as ma

from ..common.pagination import page_schema
from ..common.schemas import (
    Instant,
    OutputSchema,
    PatchSchema,
    StrictBoolean,
    StrictSchema,
    Text,
)
from ..db.base import utcnow
from ..products.models import PRODUCT_CODE
from .guardians import ConsentScope, Relationship, VerificationMethod
from .preferences import CHANNELS, COOKIES, SETTINGS, ActorKind, ChangeSource, SettingSource

_COOKIE_DOC = {
    "necessary": "Always true: needed for the products to work, they cannot be refused",
    "functional": "Remember choices such as language (consent first: off by default)",
    "analytics": "Measure use of the products (consent first: off by default)",
    "advertising": "Select advertisements (consent first: off by default)",
}
_INTEREST_DOC = (
    "Interest-based advertising: an opt-out, on by default where the effective policy's "
    "`advertising.interest_based` is true; opting in where it is false is refused (409)"
)
_PARTNER_DOC = (
    "Sharing with advertising partners: an opt-in, off by default; opting in where the "
    "effective policy's `advertising.partner_sharing` is false is refused (409)"
)
_CHANNELS_DOC = (
    "Promotional messages per channel; defaults: the policy's `marketing.default_channels`"
)


def _stored(choices: type[StrEnum]) -> ma.fields.String:
    """An output field of a value stored as text, documented with its choices."""
    return ma.fields.String(
        required=True, validate=ma.validate.OneOf([member.value for member in choices])
    )


# --- preferences ---------------------------------------------------------------------------


class ChannelsUpdateSchema(StrictSchema):
    """Only the channels sent change."""

    class Meta(StrictSchema.Meta):
        include = {channel: StrictBoolean() for channel in CHANNELS}


def _cookie_update(cookie: str) -> StrictBoolean:
    description = {"description": _COOKIE_DOC[cookie]}
    if cookie != "necessary":
        return StrictBoolean(metadata=description)
    refused = ma.validate.OneOf([True], error="necessary cookies are always on")
    return StrictBoolean(validate=refused, metadata=description)


class CookiesUpdateSchema(StrictSchema):
    """Only the cookie categories sent change."""

    class Meta(StrictSchema.Meta):
        include = {cookie: _cookie_update(cookie) for cookie in COOKIES}


class PreferencesUpdateSchema(PatchSchema):
    """A partial document of the settings: only those sent change; one sent with its current
    value changes nothing (and writes nothing)."""

    channels = ma.fields.Nested(ChannelsUpdateSchema, metadata={"description": _CHANNELS_DOC})
    interest_based_advertising = StrictBoolean(metadata={"description": _INTEREST_DOC})
    partner_sharing = StrictBoolean(metadata={"description": _PARTNER_DOC})
    cookies = ma.fields.Nested(CookiesUpdateSchema)


class ChannelsSchema(ma.Schema):
    class Meta:
        include = {channel: ma.fields.Boolean(required=True) for channel in CHANNELS}


class CookiesSchema(ma.Schema):
    class Meta:
        include = {
            cookie: ma.fields.Boolean(required=True, metadata={"description": _COOKIE_DOC[cookie]})
            for cookie in COOKIES
        }


class PreferenceValuesSchema(ma.Schema):
    channels = ma.fields.Nested(ChannelsSchema, required=True)
    interest_based_advertising = ma.fields.Boolean(required=True)
    partner_sharing = ma.fields.Boolean(required=True)
    cookies = ma.fields.Nested(CookiesSchema, required=True)


class SettingStateSchema(OutputSchema):
    setting = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(SETTINGS),
        metadata={"description": "The setting's path in `preferences`, dotted"},
    )
    value = ma.fields.Boolean(required=True)
    source = ma.fields.Enum(
        SettingSource,
        required=True,
        metadata={
            "description": "`default` (nobody chose: the policy's default), `choice` (the last "
            "change), `policy` (the effective policy forbids it now, whatever was chosen), "
            "`restriction` (the account's processing is restricted, GDPR art. 18: advertising "
            "and partner sharing are off until it is lifted)"
        },
    )
    changed_at = ma.fields.DateTime(
        required=True, allow_none=True, metadata={"description": "Last set; null: never"}
    )


class StatementVersionSchema(ma.Schema):
    id = ma.fields.UUID(required=True, allow_none=True)
    label = ma.fields.String(required=True)


class PreferencesSchema(OutputSchema):
    account_id = ma.fields.UUID(required=True)
    preferences = ma.fields.Nested(PreferenceValuesSchema, required=True)
    settings = ma.fields.List(
        ma.fields.Nested(SettingStateSchema),
        required=True,
        metadata={"description": "Each setting with where its value comes from, and since when"},
    )
    statement_version = ma.fields.Nested(
        StatementVersionSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The privacy statement version in force now"},
    )
    last_changed_at = ma.fields.DateTime(required=True, allow_none=True)


class PreferenceChangeSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    account_id = ma.fields.UUID(required=True)
    changed_at = ma.fields.DateTime(required=True)
    actor_kind = _stored(ActorKind)
    actor_id = ma.fields.String(
        required=True,
        metadata={
            "description": "Entra object id; with source `data_subject_request`, the request's "
            "id (its reference is `actor_display`)"
        },
    )
    actor_display = ma.fields.String(required=True)
    source = _stored(ChangeSource)
    statement_version_id = ma.fields.UUID(required=True, allow_none=True)
    statement_version_label = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The privacy statement version in force when the choice was made"},
    )
    changes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Boolean(),
        required=True,
        metadata={"description": "Only the settings this change set, by dotted path"},
    )


PreferenceChangePageSchema = page_schema(PreferenceChangeSchema, "PreferenceChangePageSchema")


# --- guardian consents ---------------------------------------------------------------------

# An e-mail address, or a phone number in international or national form.
_CONTACT = re.compile(r"^(?:[^@\s]+@[^@\s]+\.[^@\s]+|\+?[0-9][0-9 ()-]{5,30})$")
# Clocks of the organisation's systems may run a little ahead of ours.
_CLOCK_SKEW = timedelta(minutes=5)
_SCOPE_DOC = (
    "What the guardian consents to: `account` (required: activation depends on it), "
    "`products` (every product granted to the account), `marketing` (promotional messages on "
    "the channels the preferences allow), or the code of a single product of /v1/products"
)


def _not_in_future(value: Any) -> None:
    if value > utcnow() + _CLOCK_SKEW:
        raise ma.ValidationError("must not be in the future")


class GuardianConsentCreateSchema(StrictSchema):
    guardian_name = Text(required=True, validate=ma.validate.Length(max=200))
    guardian_contact = Text(
        required=True,
        validate=[
            ma.validate.Length(max=320),
            ma.validate.Regexp(_CONTACT, error="must be an e-mail address or a phone number"),
        ],
        metadata={"description": "E-mail address or phone number of the guardian"},
    )
    relationship = ma.fields.Enum(Relationship, required=True)
    verification_method = ma.fields.Enum(
        VerificationMethod,
        required=True,
        metadata={"description": "How the guardian's parental responsibility was verified"},
    )
    verified_at = Instant(
        required=True,
        validate=_not_in_future,
        metadata={"description": "When it was verified; not in the future"},
    )
    scope = ma.fields.List(
        Text(validate=ma.validate.Regexp(PRODUCT_CODE, error="must be a scope or product code")),
        load_default=lambda: [ConsentScope.account.value],
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": _SCOPE_DOC + '. Default: `["account"]`'},
    )


class GuardianConsentRevokeSchema(StrictSchema):
    reason = Text(required=True, validate=ma.validate.Length(max=1000))


class GuardianConsentSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    account_id = ma.fields.UUID(required=True)
    guardian_name = ma.fields.String(required=True)
    guardian_contact = ma.fields.String(required=True)
    relationship = _stored(Relationship)
    verification_method = _stored(VerificationMethod)
    verified_at = ma.fields.DateTime(required=True)
    scope = ma.fields.List(ma.fields.String(), required=True)
    in_force = ma.fields.Method("_in_force", required=True, metadata={"type": "boolean"})
    recorded_at = ma.fields.DateTime(required=True)
    recorded_by_id = ma.fields.String(required=True)
    recorded_by_display = ma.fields.String(required=True)
    revoked_at = ma.fields.DateTime(required=True, allow_none=True)
    revoked_by_id = ma.fields.String(required=True, allow_none=True)
    revoked_by_display = ma.fields.String(required=True, allow_none=True)
    revocation_reason = ma.fields.String(required=True, allow_none=True)

    def _in_force(self, consent: object) -> bool:
        return getattr(consent, "revoked_at", None) is None


class GuardianConsentsSchema(OutputSchema):
    account_id = ma.fields.UUID(required=True)
    in_force = ma.fields.Nested(
        GuardianConsentSchema,
        required=True,
        allow_none=True,
        metadata={"description": "The consent in force; null: none"},
    )
    history = ma.fields.List(
        ma.fields.Nested(GuardianConsentSchema),
        required=True,
        metadata={"description": "Every consent of the account, newest first"},
    )
