"""The SCIM equality shortcut (scim/filters.py) reads a filter as the parser does, or not at all."""

from __future__ import annotations

import pytest
from scim2_models import ScimFilter

from facito_admin.accounts.rules import key
from facito_admin.scim.filters import user_equality


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName eq "Bjensen@Example.com"', ("username", key("Bjensen@Example.com"))),
        ('USERNAME eq "é ü@x"', ("username", key("é ü@x"))),
        ('externalId eq "Ab-1"', ("externalid", "Ab-1")),  # caseExact: as sent
        ('userName eq ""', ("username", key(""))),
    ],
)
def test_an_equality_on_a_stored_string_is_read_as_the_parser_reads_it(expression, expected):
    assert user_equality(expression) == expected
    parsed = ScimFilter(expression).ast
    assert (parsed.attr_path.attr.lower(), parsed.op.value) == (expected[0], "eq")
    stored = parsed.value if expected[0] == "externalid" else key(parsed.value)
    assert stored == expected[1]


@pytest.mark.parametrize(
    "expression",
    [
        'userName eq "a\\"b"',  # an escape: the parser decodes it
        'userName  eq "x"',  # other spacing
        ' userName eq "x"',
        'userName EQ "x"',
        'userName eq "x" and active eq true',
        'name.givenName eq "x"',  # a sub-attribute
        'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"',
        'active eq "x"',  # not a string attribute
        'id eq "x"',
        'nosuch eq "x"',  # unknown: the parser's path answers invalidFilter
        'userName eq "\ud800"',  # unstorable (a lone surrogate): likewise
        'userName ne "x"',
    ],
)
def test_any_other_filter_goes_through_the_parser(expression):
    assert user_equality(expression) is None
