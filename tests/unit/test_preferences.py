"""The preference rules alone: defaults under a policy, the fold, what a request changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facito_admin.consents.preferences import (
    NECESSARY_COOKIES,
    SETTINGS,
    Change,
    ForbiddenByPolicy,
    PolicyTerms,
    SettingSource,
    changes_to_record,
    defaults,
    flatten,
    fold,
    nest,
)
from facito_admin.policies.parameters import MARKETING_CHANNELS

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STATEMENT = PolicyTerms(default_channels=frozenset(), interest_based=True, partner_sharing=True)
STRICT = PolicyTerms(
    default_channels=frozenset({"email"}), interest_based=False, partner_sharing=False
)


def test_the_channels_are_the_policys_channels():
    assert tuple(s.removeprefix("channels.") for s in SETTINGS if s.startswith("channels.")) == (
        MARKETING_CHANNELS
    )


def test_defaults_follow_the_policy_and_consent_first_for_sharing_and_cookies():
    values = defaults(STATEMENT)
    assert values["interest_based_advertising"] is True
    assert values["partner_sharing"] is False
    assert values[NECESSARY_COOKIES] is True
    assert not any(values[f"cookies.{c}"] for c in ("functional", "analytics", "advertising"))
    assert not any(values[f"channels.{c}"] for c in MARKETING_CHANNELS)
    strict = defaults(STRICT)
    assert strict["channels.email"] is True
    assert strict["channels.sms"] is False
    assert strict["interest_based_advertising"] is False


def test_an_empty_history_is_all_defaults():
    state = fold(STATEMENT, [])
    assert {s.source for s in state.values()} == {SettingSource.default}
    assert {s.changed_at for s in state.values()} == {None}
    assert list(state) == list(SETTINGS)


def test_the_last_change_of_each_setting_wins_and_says_when():
    history = [
        Change(T0, {"channels.email": True, "partner_sharing": True}),
        Change(T0 + timedelta(days=1), {"channels.email": False}),
    ]
    state = fold(STATEMENT, history)
    assert state["channels.email"].value is False
    assert state["channels.email"].changed_at == T0 + timedelta(days=1)
    assert state["partner_sharing"].value is True
    assert state["partner_sharing"].source is SettingSource.choice
    assert state["channels.sms"].source is SettingSource.default


def test_a_forbidden_choice_shows_off_with_the_policy_as_source_but_keeps_the_record():
    state = fold(STRICT, [Change(T0, {"partner_sharing": True})])
    shared = state["partner_sharing"]
    assert (shared.value, shared.source, shared.recorded) == (False, SettingSource.policy, True)
    assert shared.changed_at == T0


def test_necessary_cookies_stay_on_and_unknown_settings_are_ignored():
    state = fold(STATEMENT, [Change(T0, {NECESSARY_COOKIES: False, "channels.fax": True})])
    assert state[NECESSARY_COOKIES].value is True
    assert "channels.fax" not in state


def test_only_real_changes_are_recorded_in_settings_order():
    state = fold(STATEMENT, [Change(T0, {"channels.sms": True})])
    requested = {"cookies.analytics": True, "channels.sms": True, "channels.email": False}
    assert changes_to_record(STATEMENT, state, requested) == {"cookies.analytics": True}
    assert changes_to_record(STATEMENT, state, {NECESSARY_COOKIES: True}) == {}


@pytest.mark.parametrize("setting", ["partner_sharing", "interest_based_advertising"])
def test_opting_in_where_the_policy_forbids_it_is_refused(setting: str):
    with pytest.raises(ForbiddenByPolicy) as refused:
        changes_to_record(STRICT, fold(STRICT, []), {setting: True})
    assert refused.value.policy_key.startswith("advertising.")


def test_an_opt_out_under_a_forbidding_policy_is_recorded():
    state = fold(STRICT, [Change(T0, {"partner_sharing": True})])
    assert changes_to_record(STRICT, state, {"partner_sharing": False}) == {
        "partner_sharing": False
    }


def test_policy_terms_read_unset_keys_strictly():
    terms = PolicyTerms.from_values(lambda key: None)
    assert terms == PolicyTerms(frozenset(), interest_based=False, partner_sharing=False)


def test_flatten_and_nest_are_inverse():
    document = {"channels": {"email": True}, "partner_sharing": False}
    assert flatten(document) == {"channels.email": True, "partner_sharing": False}
    assert nest(flatten(document)) == document


def test_a_restricted_account_has_advertising_and_sharing_off_whatever_it_chose():
    history = [Change(T0, {"partner_sharing": True, "channels.email": True})]
    state = fold(STATEMENT, history, restricted=True)
    for setting in ("interest_based_advertising", "partner_sharing"):
        assert (state[setting].value, state[setting].source) == (False, SettingSource.restriction)
    # What was chosen comes back when the restriction is lifted; channels are not advertising.
    assert state["partner_sharing"].recorded is True
    assert state["channels.email"].value is True
    assert fold(STATEMENT, history)["partner_sharing"].value is True
