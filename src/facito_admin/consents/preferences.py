"""Preferences as pure values: the settings, their defaults under a policy, and the fold.

The current state of an account's preferences is never stored: it is the history of changes
(consents/models.py: PreferenceChange) folded over the defaults of the effective policy, and
then narrowed by what the policy forbids. Keeping it a function of plain values lets the rules
be tested alone (tests/unit/test_preferences.py).

Settings are named by flat keys (`channels.email`, `cookies.analytics`); the API nests them
(`{"channels": {"email": true}}`), :func:`flatten` and :func:`nest` convert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

# The policy's channel names (policies/parameters.py: MARKETING_CHANNELS) name these settings.
CHANNELS = ("email", "sms", "phone", "post")
COOKIES = ("necessary", "functional", "analytics", "advertising")
INTEREST_BASED = "interest_based_advertising"
PARTNER_SHARING = "partner_sharing"
NECESSARY_COOKIES = "cookies.necessary"

# Every setting, in the order answers list them.
SETTINGS: tuple[str, ...] = (
    *(f"channels.{channel}" for channel in CHANNELS),
    INTEREST_BASED,
    PARTNER_SHARING,
    *(f"cookies.{cookie}" for cookie in COOKIES),
)

# Policy keys this module reads (the effective policy: statement ⊕ contract).
POLICY_DEFAULT_CHANNELS = "marketing.default_channels"
POLICY_INTEREST_BASED = "advertising.interest_based"
POLICY_PARTNER_SHARING = "advertising.partner_sharing"
# Setting → the policy key that must be true for it to be on.
GATED_BY_POLICY = {INTEREST_BASED: POLICY_INTEREST_BASED, PARTNER_SHARING: POLICY_PARTNER_SHARING}
# Off while the account's processing is restricted (GDPR art. 18): its data serves no
# advertising and goes to no partner (accounts.models.ProcessingRestriction).
OFF_WHILE_RESTRICTED = frozenset({INTEREST_BASED, PARTNER_SHARING})
# Direct marketing and advertising: what an objection to direct marketing turns off, all at
# once (art. 21(3)), and what a consent withdrawal that names nothing withdraws.
MARKETING: tuple[str, ...] = (
    *(f"channels.{channel}" for channel in CHANNELS),
    INTEREST_BASED,
    PARTNER_SHARING,
    "cookies.advertising",
)


class SettingSource(StrEnum):
    """Where a setting's current value comes from."""

    default = "default"  # nobody chose yet: the policy's default
    choice = "choice"  # the last change in the history
    policy = "policy"  # the policy forbids it now, whatever was chosen
    restriction = "restriction"  # the account's processing is restricted (art. 18): off


class ActorKind(StrEnum):
    subject = "subject"
    guardian = "guardian"
    admin = "admin"
    integration = "integration"


class ChangeSource(StrEnum):
    self_service = "self_service"
    admin_api = "admin_api"
    integration = "integration"
    # Fulfilling the subject's data-subject request (an objection, a consent withdrawal):
    # the history row names the request by its id (actor_id) and reference (actor_display).
    data_subject_request = "data_subject_request"


@dataclass(frozen=True)
class PolicyTerms:
    """What the effective policy says about preferences (policies/parameters.py)."""

    default_channels: frozenset[str]
    interest_based: bool
    partner_sharing: bool

    @classmethod
    def from_values(cls, value: Callable[[str], Any]) -> PolicyTerms:
        """From a lookup ``value(key)`` of the effective policy; unset keys are the strict
        reading (no default channel, nothing allowed that needs the policy's permission)."""
        channels = value(POLICY_DEFAULT_CHANNELS) or []
        return cls(
            default_channels=frozenset(str(c) for c in channels),
            interest_based=value(POLICY_INTEREST_BASED) is True,
            partner_sharing=value(POLICY_PARTNER_SHARING) is True,
        )

    def allows(self, setting: str) -> bool:
        """Whether the setting may be on at all."""
        if setting == INTEREST_BASED:
            return self.interest_based
        if setting == PARTNER_SHARING:
            return self.partner_sharing
        return True


def defaults(terms: PolicyTerms) -> dict[str, bool]:
    """Each setting's value until the subject chooses.

    Channels: the policy's default channels. Interest-based advertising is an opt-out (on where
    the policy allows it); partner sharing is an opt-in (sharing needs consent, GDPR art. 6(1)(a));
    cookies beyond the necessary ones need consent first (ePrivacy art. 5(3)).
    """
    values = {f"channels.{c}": c in terms.default_channels for c in CHANNELS}
    values[INTEREST_BASED] = terms.interest_based
    values[PARTNER_SHARING] = False
    values.update({f"cookies.{c}": c == "necessary" for c in COOKIES})
    return values


@dataclass(frozen=True)
class Change:
    """One entry of the history: when, and the settings it set."""

    changed_at: datetime
    values: Mapping[str, bool]


@dataclass(frozen=True)
class SettingState:
    value: bool
    source: SettingSource
    # When the subject (or someone for them) last set it; None: never.
    changed_at: datetime | None
    # What the history says, before the policy narrows it (equals value unless forbidden).
    recorded: bool


def fold(
    terms: PolicyTerms, history: Iterable[Change], *, restricted: bool = False
) -> dict[str, SettingState]:
    """The current state: ``history`` (oldest first) over the defaults, narrowed by the policy
    and, for an account whose processing is ``restricted``, by the restriction.

    A choice made while restricted is recorded and shown as ``recorded``: it takes effect
    when the restriction is lifted.
    """
    recorded = defaults(terms)
    changed_at: dict[str, datetime] = {}
    for change in history:
        for setting, value in change.values.items():
            if setting in recorded:  # a setting retired from the catalogue is history only
                recorded[setting] = bool(value)
                changed_at[setting] = change.changed_at
    # Necessary cookies cannot be refused: on whatever an old row might say.
    recorded[NECESSARY_COOKIES] = True
    state: dict[str, SettingState] = {}
    for setting in SETTINGS:
        value = recorded[setting]
        when = changed_at.get(setting)
        source = SettingSource.choice if when is not None else SettingSource.default
        if value and not terms.allows(setting):
            state[setting] = SettingState(False, SettingSource.policy, when, value)
        elif value and restricted and setting in OFF_WHILE_RESTRICTED:
            state[setting] = SettingState(False, SettingSource.restriction, when, value)
        else:
            state[setting] = SettingState(value, source, when, value)
    return state


class ForbiddenByPolicy(ValueError):
    """Opting in to a setting the effective policy does not allow."""

    def __init__(self, setting: str) -> None:
        super().__init__(setting)
        self.setting = setting
        self.policy_key = GATED_BY_POLICY.get(setting, "")


def changes_to_record(
    terms: PolicyTerms, state: Mapping[str, SettingState], requested: Mapping[str, bool]
) -> dict[str, bool]:
    """The settings a request really changes, in SETTINGS order; raises ForbiddenByPolicy.

    Compared with the recorded value, not the shown one: an opt-out sent while the policy
    forbids the setting is recorded, so that an earlier opt-in does not come back should the
    policy allow the setting again.
    """
    for setting, value in requested.items():
        if setting not in state:
            raise KeyError(setting)
        if value and not terms.allows(setting):
            raise ForbiddenByPolicy(setting)
    return {
        setting: requested[setting]
        for setting in SETTINGS
        if setting in requested
        and setting != NECESSARY_COOKIES
        and requested[setting] != state[setting].recorded
    }


def flatten(document: Mapping[str, Any]) -> dict[str, bool]:
    """`{"channels": {"email": true}}` → `{"channels.email": true}`."""
    flat: dict[str, bool] = {}
    for key, value in document.items():
        if isinstance(value, Mapping):
            flat.update({f"{key}.{inner}": bool(v) for inner, v in value.items()})
        else:
            flat[key] = bool(value)
    return flat


def nest(values: Mapping[str, Any]) -> dict[str, Any]:
    """`{"channels.email": x}` → `{"channels": {"email": x}}` (the inverse of flatten)."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        group, dot, name = key.partition(".")
        if dot:
            nested.setdefault(group, {})[name] = value
        else:
            nested[key] = value
    return nested
