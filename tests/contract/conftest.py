"""Let schemathesis find the app: the document the app serves, loaded in-process over WSGI."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema

# Statuses a request that fits the schema may still get. The schema cannot say everything a
# business rule checks (a backup region equal to the primary one, a stale If-Match), and those
# answers are documented problem+json responses, not rejections of well-formed data. 400 is
# never our answer to schema-invalid input (that is 422): only the admin-consent callback gives
# it, for a `state` we did not issue, which no schema can express.
POSITIVE_DATA_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "422", "429"]
# Every check schemathesis has, max_response_time included (generous: CI machines are loaded;
# it is there to catch a request that hangs, not to measure).
CHECKS: dict[str, Any] = {
    "enabled": True,
    "max_response_time": 10.0,
    "positive_data_acceptance": {"expected-statuses": POSITIVE_DATA_STATUSES},
}


def schemathesis_config(**extra: Any) -> SchemathesisConfig:
    """Every check; schemathesis never writes (or negates) the Authorization header itself."""
    return SchemathesisConfig.from_dict(
        {"generation": {"with-security-parameters": False}, "checks": CHECKS, **extra}
    )


@pytest.fixture(scope="session")
def api_schema(app: Flask) -> BaseSchema:
    """The OpenAPI document the app serves, bound to the app (requests stay in-process).

    Tests pass the caller's real token at call time.
    """
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=schemathesis_config())
