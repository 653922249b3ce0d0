"""Text inputs: trimmed, never blank, and never longer than documented as sent."""

from __future__ import annotations

import marshmallow as ma
import pytest

from facito_admin.common.schemas import Text


class _Note(ma.Schema):
    text = Text(required=True, validate=ma.validate.Length(max=5))


def test_surrounding_blanks_are_trimmed():
    assert _Note().load({"text": " ab\n"}) == {"text": "ab"}


def test_a_text_longer_than_its_maximum_as_sent_is_refused_even_if_trimming_would_shorten_it():
    # The document says maxLength 5: a client sending six characters must hear 422, whatever
    # the server would have made of them (schemathesis' "schema-violating request accepted").
    with pytest.raises(ma.ValidationError, match="maximum length 5"):
        _Note().load({"text": "\nabcde"})
    assert _Note().load({"text": "\nabcd"}) == {"text": "abcd"}


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_a_blank_text_is_refused(text: str):
    with pytest.raises(ma.ValidationError, match="blank"):
        _Note().load({"text": text})


def test_control_characters_are_refused():
    with pytest.raises(ma.ValidationError, match="control characters"):
        _Note().load({"text": "a\x00b"})
