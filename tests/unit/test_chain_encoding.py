"""The bytes an event hash covers do not depend on which encoder wrote them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from facito_admin.audit.chain import _ENCODER, TIMESTAMP_FORMAT, canonical_json, canonical_timestamp

_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)  # any code point but surrogates
_LEAVES = (
    _TEXT
    | st.integers(min_value=-(2**70), max_value=2**70)  # orjson refuses beyond 64 bits
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=False, allow_infinity=False)  # orjson spells some differently
)
_DOCUMENTS = st.dictionaries(
    _TEXT,
    st.recursive(
        _LEAVES,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
        max_leaves=12,
    ),
    max_size=8,
)


def _json_bytes(document: dict) -> bytes:
    return _ENCODER.encode(document).encode("utf-8", "surrogatepass")


@settings(max_examples=2_000, deadline=None)
@given(_DOCUMENTS)
def test_any_document_is_hashed_as_the_json_encoder_writes_it(document):
    assert canonical_json(document) == _json_bytes(document)


def test_floats_large_integers_and_lone_surrogates_are_written_as_json_writes_them():
    document = {
        "float": 1e16,
        "small": 5e-324,
        "big": 2**64,
        "lone": "a\ud800b",
        "nested": {"z": [1e22, {"b": -0.0}], "a": None},
    }
    assert canonical_json(document) == _json_bytes(document)
    assert b'"float":1e+16' in canonical_json(document)


def test_an_instant_is_spelt_the_same_by_either_path():
    rng = random.Random(13)
    start = datetime(1000, 1, 1, tzinfo=UTC)
    for _ in range(20_000):
        instant = start + timedelta(microseconds=rng.randrange(9_000 * 365 * 86_400 * 10**6))
        if rng.random() < 0.1:
            instant = instant.replace(microsecond=0)
        assert canonical_timestamp(instant) == instant.strftime(TIMESTAMP_FORMAT)
    elsewhere = datetime(2026, 12, 6, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert canonical_timestamp(elsewhere) == "2026-12-06T10:00:00.000000Z"
    early = datetime(999, 1, 1, tzinfo=UTC)
    assert canonical_timestamp(early) == early.strftime(TIMESTAMP_FORMAT)
