"""Entra rolls its signing keys: tokens signed with a new key are accepted without a restart,
and unknown kids never make us fetch the key set more than once per five minutes."""

from __future__ import annotations

import json
import time
import uuid

import time_machine
from joserfc.jwk import RSAKey
from pytest_httpserver import HTTPServer
from werkzeug import Response

from facito_admin.app import create_app
from facito_admin.auth.dev_issuer import mint_token
from facito_admin.bootstrap import build_runtime
from tests.conftest import AUTHORITY, CLIENT_ID, Org

JWKS_PATH = "/rotating/discovery/v2.0/keys"


class KeyEndpoint:
    """Entra's key endpoint: what it publishes can change, and it counts its callers."""

    def __init__(self, server: HTTPServer, *keys: RSAKey) -> None:
        self.fetches = 0
        self.keys = list(keys)
        server.expect_request(JWKS_PATH).respond_with_handler(self._answer)

    def _answer(self, _request: object) -> Response:
        self.fetches += 1
        body = {"keys": [k.as_dict(private=False) | {"use": "sig"} for k in self.keys]}
        return Response(json.dumps(body), content_type="application/json")


def _token(key: RSAKey, org: Org) -> dict[str, str]:
    token = mint_token(
        key,
        authority_host=AUTHORITY,
        audience=CLIENT_ID,
        tenant_id=org.tenant_id,
        object_id=str(uuid.uuid4()),
        roles=["Organisation.Reader"],
        lifetime_seconds=3 * 3600,
    )
    return {"Authorization": f"Bearer {token}"}


def test_a_rotated_key_is_picked_up_without_restart_and_fetches_stay_rate_limited(
    settings, runtime, org_a: Org
):
    old = RSAKey.generate_key(2048, parameters={"kid": "rotation-old"})
    new = RSAKey.generate_key(2048, parameters={"kid": "rotation-new"})
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        endpoint = KeyEndpoint(server, old)
        custom = settings.model_copy(update={"jwks_url": server.url_for(JWKS_PATH)})
        runtime = build_runtime(custom)
        client = create_app(custom, runtime=runtime).test_client()
        with time_machine.travel(time.time(), tick=True) as clock:
            assert client.get("/v1/me", headers=_token(old, org_a)).status_code == 200
            fetches = endpoint.fetches

            # Entra publishes the new key and starts signing with it.
            endpoint.keys = [old, new]
            early = client.get("/v1/me", headers=_token(new, org_a))
            # The key set was fetched at start; an unknown kid within five minutes waits.
            assert early.status_code == 401
            for _ in range(20):
                client.get("/v1/me", headers=_token(new, org_a))
            assert endpoint.fetches == fetches

            clock.shift(301)
            assert client.get("/v1/me", headers=_token(new, org_a)).status_code == 200
            assert endpoint.fetches == fetches + 1
            # Old tokens keep working while the old key is still published.
            assert client.get("/v1/me", headers=_token(old, org_a)).status_code == 200
            assert endpoint.fetches == fetches + 1
        runtime.database.dispose()
    finally:
        server.stop()
