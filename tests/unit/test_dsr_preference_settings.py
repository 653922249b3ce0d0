"""Which preferences an objection or a consent withdrawal turns off (the rule alone)."""

from __future__ import annotations

from facito_admin.consents.preferences import MARKETING
from facito_admin.subject_requests.fulfilment.preferences import settings_to_turn_off
from facito_admin.subject_requests.models import RequestKind

OBJECTION, WITHDRAWAL = RequestKind.objection, RequestKind.consent_withdrawal


def test_naming_nothing_turns_off_every_marketing_and_advertising_setting():
    assert settings_to_turn_off(OBJECTION, []) == list(MARKETING)
    assert settings_to_turn_off(WITHDRAWAL, []) == list(MARKETING)


def test_an_objection_to_any_direct_marketing_is_an_objection_to_all_of_it():
    assert settings_to_turn_off(OBJECTION, ["channels.post"]) == list(MARKETING)
    both = settings_to_turn_off(OBJECTION, ["cookies.analytics", "partner_sharing"])
    # In the order answers list settings: analytics cookies before advertising ones.
    assert both == [*MARKETING[:-1], "cookies.analytics", "cookies.advertising"]


def test_other_objections_and_withdrawals_turn_off_what_they_name_never_necessary_cookies():
    assert settings_to_turn_off(OBJECTION, ["cookies.analytics"]) == ["cookies.analytics"]
    assert settings_to_turn_off(WITHDRAWAL, ["channels.sms"]) == ["channels.sms"]
    assert settings_to_turn_off(WITHDRAWAL, ["cookies.necessary"]) == []
