"""Swapping one part of the runtime (a fake Graph, a webhook config reaching 127.0.0.1) for the
length of a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from facito_admin.runtime import Runtime


@contextmanager
def swapped(runtime: Runtime, **parts: Any) -> Iterator[Runtime]:
    """``runtime`` with ``parts`` replaced until the block ends (the app and the queue see it)."""
    original = {name: getattr(runtime, name) for name in parts}
    for name, value in parts.items():
        setattr(runtime, name, value)
    try:
        yield runtime
    finally:
        for name, value in original.items():
            setattr(runtime, name, value)
