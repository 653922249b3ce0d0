"""The statement diff names every key that was added, removed or changed, and nothing else."""

from __future__ import annotations

from facito_admin.policies.statement_diff import (
    BodyChange,
    ParameterChange,
    ParameterChangeKind,
    body_changes,
    parameter_changes,
)


def test_equal_values_are_left_out_and_changes_are_in_key_order():
    old = {"b": 1, "a": [1, 2], "gone": True}
    new = {"b": 2, "a": [1, 2], "new": False}
    assert parameter_changes(old, new) == [
        ParameterChange("b", ParameterChangeKind.changed, 1, 2),
        ParameterChange("gone", ParameterChangeKind.removed, True, None),
        ParameterChange("new", ParameterChangeKind.added, None, False),
    ]


def test_a_version_compared_with_itself_has_no_changes():
    values = {"dsr.response_days": 30}
    assert parameter_changes(values, values) == []
    assert body_changes({"nl": "x"}, {"nl": "x"}) == [BodyChange("nl", False, True, True)]


def test_bodies_are_compared_per_language():
    assert body_changes({"nl": "a", "en": "b"}, {"nl": "a2", "de": "c"}) == [
        BodyChange("de", True, False, True),
        BodyChange("en", True, True, False),
        BodyChange("nl", True, True, True),
    ]
