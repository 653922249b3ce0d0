"""Dedicated app instances for tests that need other settings or test-only routes.

They share the session's database and token validator, but get their own rate-limit counters
and metrics registry. Routes must be added before the app serves its first request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Flask

from facito_admin.app import create_app
from facito_admin.runtime import Runtime


def build_app(
    runtime: Runtime, *, routes: Callable[[Flask], None] | None = None, **settings: Any
) -> Flask:
    """A new app on the same database, with ``settings`` overriding the test settings."""
    changed = runtime.settings.model_copy(update=settings)
    app = create_app(changed, runtime=replace(runtime, settings=changed))
    if routes is not None:
        routes(app)
    return app
