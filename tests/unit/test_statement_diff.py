"""The statement diff names every key that was added, removed or changed, and nothing else."""

from __future__ import annotations

from facito_admin.policies.statements.diff import (
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
    changes = body_changes({"nl": "a", "en": "b"}, {"nl": "a2", "de": "c"})
    assert [(c.language, c.changed, c.in_from, c.in_to) for c in changes] == [
        ("de", True, False, True),
        ("en", True, True, False),
        ("nl", True, True, True),
    ]


def test_a_changed_text_comes_with_a_unified_diff_labelled_by_version():
    [nl] = body_changes(
        {"nl": "Wij antwoorden binnen 30 dagen.\nVragen?"},
        {"nl": "Wij antwoorden binnen 28 dagen.\nVragen?"},
        labels=("2019-03-08", "2026-12"),
    )
    assert nl.text_diff.splitlines() == [
        "--- 2019-03-08",
        "+++ 2026-12",
        "@@ -1,2 +1,2 @@",
        "-Wij antwoorden binnen 30 dagen.",
        "+Wij antwoorden binnen 28 dagen.",
        " Vragen?",
    ]
    [same] = body_changes({"en": "x"}, {"en": "x"})
    assert same.text_diff == ""
