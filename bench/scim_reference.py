"""The reference of bench/scim.py: scim2-server's own WSGI application, served under gunicorn.

It is what the ``scim2-server`` command serves (its ``BearerTokenApplication`` over an
``InMemoryStorage``, the RFC 7643 default schemas, resource types and service provider
configuration), mounted under /scim/v2 like ours, with a /livez answer for the bench's
readiness check. Its storage keeps the resources in process memory (dicts indexed by id, by
unique values and, for ``eq`` filters on one string attribute, by value): no database, no
transaction, no audit event, no access log.

Each gunicorn worker would have a storage of its own, so the users that the filtered gets look
for are created at import, through the application itself (a POST /v2/Users each, the same
body as our side gets), and gunicorn's ``preload_app`` forks the workers after that: every
worker starts with all of them. The users created under load land in the one worker that
served the request, which does not matter for unique userNames.

Environment: BENCH_SCIM_TOKEN (the bearer token to accept), BENCH_SCIM_SEED_FILE (userNames to
create, one a line; optional).
Run: gunicorn -w 2 -c <config with preload_app = True> bench.scim_reference:app
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scim2_models import ScimProvider
from scim2_server.memory import InMemoryStorage
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)
from werkzeug.test import Client

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PREFIX = "/scim"
SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def bench_user(user_name: str) -> dict[str, Any]:
    """The body of every user the bench creates, on both sides (what Entra ID sends, roughly)."""
    local = user_name.split("@", 1)[0]
    return {
        "schemas": [USER, ENTERPRISE],
        "externalId": f"ext-{local}",
        "userName": user_name,
        "active": True,
        "displayName": f"Bench {local}",
        "name": {"givenName": "Bench", "familyName": local},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        ENTERPRISE: {"employeeNumber": local, "department": "Bench"},
    }


class Mounted:
    """``application`` under /scim (SCRIPT_NAME), and 200 on /livez."""

    def __init__(self, application: WSGIApplication) -> None:
        self.application = application

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path == "/livez":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        if path.startswith(PREFIX + "/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX
            environ["PATH_INFO"] = path.removeprefix(PREFIX)
            return self.application(environ, start_response)
        start_response("404 Not Found", [("Content-Length", "0")])
        return []


def create_app(token: str, seed: Iterable[str] = ()) -> Mounted:
    """The reference application accepting ``token``, with the users named in ``seed``."""
    # As the scim2-server command builds it with --bearer-token.
    config = load_default_service_provider_config()
    config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
    provider = ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=config
    )
    application = BearerTokenApplication(InMemoryStorage(), provider, bearer_tokens=[token])
    client = Client(application)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON}
    for user_name in seed:
        response = client.post("/v2/Users", data=json.dumps(bench_user(user_name)), headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"seeding {user_name}: {response.status} {response.get_data()!r}")
    return Mounted(application)


def _from_environment() -> Mounted:
    seed_file = os.environ.get("BENCH_SCIM_SEED_FILE")
    seed = Path(seed_file).read_text().split() if seed_file else []
    return create_app(os.environ.get("BENCH_SCIM_TOKEN", "bench"), seed)


if os.environ.get("BENCH_SCIM_TOKEN"):
    app = _from_environment()
