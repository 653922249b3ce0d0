import pytest

from facito_admin.policies.parameters import (
    PARAMETER_DEFAULTS,
    PARAMETERS,
    STATEMENT_2019_VALUES,
    PolicyValuesInvalid,
    parameter_for,
    validate_policy_values,
)


def test_the_2019_statement_gives_every_parameter_a_valid_value():
    assert validate_policy_values(STATEMENT_2019_VALUES, require_all=True) == STATEMENT_2019_VALUES
    # Keys added after 2019 carry the default the 2019 statement implies.
    assert set(STATEMENT_2019_VALUES) | set(PARAMETER_DEFAULTS) == set(PARAMETERS)
    assert not set(STATEMENT_2019_VALUES) & set(PARAMETER_DEFAULTS)


def test_a_key_with_a_default_may_be_left_out_of_a_statement_or_stated():
    assert PARAMETER_DEFAULTS["accounts.verified_domains_only"] is False
    stated = {**STATEMENT_2019_VALUES, "accounts.verified_domains_only": True}
    assert validate_policy_values(stated, require_all=True) == stated
    with pytest.raises(PolicyValuesInvalid) as caught:
        validate_policy_values({**STATEMENT_2019_VALUES, "accounts.verified_domains_only": 1})
    assert set(caught.value.errors) == {"accounts.verified_domains_only"}


def test_the_statement_promises_a_reply_within_thirty_days():
    assert STATEMENT_2019_VALUES["dsr.response_days"] == 30
    assert STATEMENT_2019_VALUES["children.consent_age"] == 16


def test_unknown_keys_and_ill_typed_values_are_named_in_the_errors():
    with pytest.raises(PolicyValuesInvalid) as caught:
        validate_policy_values(
            {
                "dsr.response_days": "14",
                "dsr.unknown": 1,
                "residency.eea_only": 1,
                "children.consent_age": 12,
                "residency.allowed_regions": ["azure-nl", "mars-1"],
                "marketing.default_channels": "email",
            }
        )
    errors = caught.value.errors
    assert set(errors) == {
        "dsr.response_days",
        "dsr.unknown",
        "residency.eea_only",
        "children.consent_age",
        "residency.allowed_regions",
        "marketing.default_channels",
    }
    assert errors["dsr.unknown"] == ["Unknown policy parameter."]
    assert "mars-1" in errors["residency.allowed_regions"][0]


def test_a_true_is_not_a_number_of_days():
    with pytest.raises(PolicyValuesInvalid):
        validate_policy_values({"dsr.response_days": True})


def test_lists_are_sorted_without_repeats():
    cleaned = validate_policy_values({"marketing.default_channels": ["sms", "email", "sms"]})
    assert cleaned == {"marketing.default_channels": ["email", "sms"]}


def test_an_empty_region_list_is_refused():
    with pytest.raises(PolicyValuesInvalid):
        validate_policy_values({"residency.allowed_regions": []})


def test_retention_per_data_category_takes_only_catalogue_keys():
    assert parameter_for("retention.days.content.communications") is not None
    assert parameter_for("retention.days.communications") is None
    assert parameter_for("retention.days.Not A Slug") is None
    assert validate_policy_values({"retention.days.content.files": 90}) == {
        "retention.days.content.files": 90
    }
    with pytest.raises(PolicyValuesInvalid) as caught:
        validate_policy_values({"retention.days.holiday_photos": 90})
    assert "retention.days.holiday_photos" in caught.value.errors


def test_a_statement_must_set_every_fixed_key():
    with pytest.raises(PolicyValuesInvalid) as caught:
        validate_policy_values({"dsr.response_days": 30}, require_all=True)
    assert "children.consent_age" in caught.value.errors
