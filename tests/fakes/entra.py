"""A local HTTPS fake of Entra ID's tenant endpoints: OpenID configuration and token endpoint.

msal requires an https authority, so the fake serves TLS with a certificate of a `trustme` CA
whose PEM file the app under test trusts through `ca_bundle`.
"""

from __future__ import annotations

import json
import ssl
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Response


class FakeEntra:
    def __init__(self, directory: Path) -> None:
        self.ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.ca_file = directory / "fake-entra-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    def reset(self) -> None:
        self.server.clear()

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def _publish(self, tenant_id: str) -> None:
        self.server.expect_request(
            f"/{tenant_id}/v2.0/.well-known/openid-configuration", method="GET"
        ).respond_with_json(
            {
                "issuer": f"{self.base_url}/{tenant_id}/v2.0",
                "authorization_endpoint": f"{self.base_url}/{tenant_id}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.base_url}/{tenant_id}/oauth2/v2.0/token",
                "jwks_uri": f"{self.base_url}/{tenant_id}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )

    def issue_tokens(self, tenant_id: str) -> None:
        """The tenant's administrator consented: client credentials get a token."""
        self._publish(tenant_id)
        self.server.expect_request(
            f"/{tenant_id}/oauth2/v2.0/token", method="POST"
        ).respond_with_handler(
            lambda _request: Response(
                json.dumps(
                    {
                        "token_type": "Bearer",
                        "expires_in": 3599,
                        "access_token": f"fake.{uuid.uuid4()}",
                    }
                ),
                content_type="application/json",
            )
        )

    def refuse_tokens(self, tenant_id: str, status: int, body: dict[str, Any]) -> None:
        """The token endpoint answers an OAuth error (no consent, bad secret, …)."""
        self._publish(tenant_id)
        self.server.expect_request(
            f"/{tenant_id}/oauth2/v2.0/token", method="POST"
        ).respond_with_json(body, status=status)

    def unknown_tenant(self, tenant_id: str) -> None:
        """Entra answers 400 to the OpenID configuration of a tenant it does not know."""
        self.server.expect_request(
            f"/{tenant_id}/v2.0/.well-known/openid-configuration", method="GET"
        ).respond_with_json(
            {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant not found."},
            status=400,
        )

    def token_requests(self, tenant_id: str) -> list[dict[str, str]]:
        """The form bodies posted to the tenant's token endpoint, oldest first."""
        posted = []
        for request, _response in self.server.log:
            if request.path == f"/{tenant_id}/oauth2/v2.0/token":
                form = parse_qs(request.get_data(as_text=True))
                posted.append({k: v[0] for k, v in form.items()})
        return posted
