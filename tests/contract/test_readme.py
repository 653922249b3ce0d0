"""The README is the manual: every setting and every test variable is in it, every `make`
target it names exists, and it points at nothing outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

from facito_admin.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    missing = [
        f"FACITO_{name.upper()}"
        for name in Settings.model_fields
        if f"`FACITO_{name.upper()}`" not in README
    ]

    assert missing == []


def test_every_variable_the_suite_reads_is_documented():
    read_by_tests = {
        match
        for path in (ROOT / "tests").rglob("*.py")
        for match in re.findall(
            r"""environ(?:\.get)?[(\[]\s*["'](FACITO_\w+)["']""", path.read_text()
        )
    }

    assert read_by_tests >= {"FACITO_TEST_DATABASE_URL", "FACITO_TEST_REDIS_URL"}
    assert sorted(name for name in read_by_tests if f"`{name}`" not in README) == []


def test_every_make_target_the_readme_names_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", README))

    assert {"run", "test", "reset", "test-postgres"} <= named
    assert sorted(named - targets) == []


def test_the_readme_points_at_nothing_outside_the_repository():
    assert re.findall(r"\.\./|/work/", README) == []


def test_the_tour_never_hides_its_base_address_in_single_quotes():
    # The shell does not expand $BASE inside '…': such a curl would fail without a word.
    tour = README[README.index("## A short tour") : README.index("## What it is")]
    quoted = re.findall(r"'[^'\n]*\$BASE[^'\n]*'", tour)

    assert quoted == []
    assert tour.count("$BASE") > 30
