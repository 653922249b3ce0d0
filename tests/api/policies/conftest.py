"""A frozen clock for the statement tests: publication rules compare with "now"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine


@pytest.fixture
def now() -> Iterator[datetime]:
    """The current instant (whole seconds), frozen for the test; tokens are minted in it too."""
    instant = datetime.now(UTC).replace(microsecond=0)
    with time_machine.travel(instant, tick=False):
        yield instant
