"""A local issuer for development: its own RSA key, Entra v2 claim shapes, same validation path.

Tokens it signs carry ``kid = facito-dev-…`` and are accepted only while the development issuer
is enabled (never in production: config.py refuses to start).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

DEV_KEY_FILE = "dev-issuer-key.json"


def load_or_create_key(instance_path: Path) -> RSAKey:
    """The development signing key, created once per instance folder and reused after."""
    path = instance_path / DEV_KEY_FILE
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    key = RSAKey.generate_key(2048, parameters={"kid": f"facito-dev-{uuid.uuid4().hex[:12]}"})
    instance_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(key.as_dict(private=True), handle)
    return key


def public_keys(key: RSAKey) -> dict[str, RSAKey]:
    """The verification half of a signing key, by kid."""
    public = RSAKey.import_key(key.as_dict(private=False))
    return {str(key.kid): public}


def mint_token(
    key: RSAKey,
    *,
    authority_host: str,
    audience: str,
    tenant_id: str,
    object_id: str,
    roles: list[str],
    app_only: bool = False,
    name: str | None = None,
    lifetime_seconds: int = 3600,
    extra: dict[str, Any] | None = None,
) -> str:
    """An access token shaped like Entra ID v2 (delegated, or app-only with ``app_only``)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": f"{authority_host.rstrip('/')}/{tenant_id}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_seconds,
        "tid": tenant_id,
        "oid": object_id,
        "sub": object_id,
        "azp": audience,
        "ver": "2.0",
        "roles": roles,
    }
    if app_only:
        claims["idtyp"] = "app"
    else:
        claims["scp"] = "access_as_user"
        claims["name"] = name or "Development user"
    claims.update(extra or {})
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)
