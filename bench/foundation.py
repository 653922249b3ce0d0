"""Foundation costs: token validation per request (cached keys) and /readyz.

Prints absolute figures and ratios against baselines measured in the same process:
- token validation vs. bare RS256 signature verification with joserfc (the floor);
- an authenticated GET /v1/me vs. GET /livez (no auth, no database) through the same app;
- GET /readyz vs. GET /livez.

Run: .venv/bin/python bench/foundation.py [--iterations 2000] [--requests 500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from facito_admin.app import create_app
from facito_admin.auth.dev_issuer import mint_token, public_keys
from facito_admin.auth.tokens import KeyCache, TokenValidator
from facito_admin.bootstrap import build_runtime
from facito_admin.config import load_settings
from facito_admin.db.migrations import upgrade
from facito_admin.demo import DEMO_TENANT_ID, ensure_demo_organisation

AUTHORITY = "https://login.microsoftonline.com"


def per_call_us(func: Callable[[], object], iterations: int, repeats: int = 5) -> float:
    """Median over repeats of the mean cost of one call, in microseconds."""
    for _ in range(min(200, iterations)):
        func()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(iterations):
            func()
        samples.append((time.perf_counter() - started) / iterations * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument(
        "--requests", type=int, help="HTTP requests per figure (iterations / 4, at least 200)"
    )
    args = parser.parse_args()
    n = args.iterations

    key = RSAKey.generate_key(2048, parameters={"kid": "bench"})
    client_id = str(uuid.uuid4())
    tenant = str(uuid.uuid4())
    token = mint_token(
        key,
        authority_host=AUTHORITY,
        audience=client_id,
        tenant_id=tenant,
        object_id=str(uuid.uuid4()),
        roles=["Organisation.Admin"],
    )
    keyset = KeySet([RSAKey.import_key(key.as_dict(private=False))])
    cache = KeyCache("unused", ttl=86400, min_refresh=300, fetch=lambda _url: {"keys": []})
    # cache_size=0: every call validates in full (a new token); the default remembers a
    # validated token until it expires, which is what a client's next requests get.
    validator = TokenValidator(
        audience=client_id,
        authority_host=AUTHORITY,
        remote_keys=cache,
        local_keys=public_keys(key),
        cache_size=0,
    )
    remembering = TokenValidator(
        audience=client_id, authority_host=AUTHORITY, remote_keys=cache, local_keys=public_keys(key)
    )
    bare = per_call_us(lambda: jwt.decode(token, keyset, algorithms=["RS256"]), n)
    ours = per_call_us(lambda: validator.validate(token), n)
    again = per_call_us(lambda: remembering.validate(token), n)
    print(
        f"token: bare RS256 verify {bare:8.1f} us | full validation {ours:8.1f} us "
        f"| ratio {ours / bare:.2f} | same token again {again:6.1f} us"
    )

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        settings = load_settings(
            {
                "env": "test",
                "database_url": url,
                "instance_path": Path(tmp),
                "log_level": "ERROR",
                "dev_issuer_enabled": True,
                "rate_limit": "100000000/minute",
            }
        )
        runtime = build_runtime(settings)
        ensure_demo_organisation(runtime)
        app = create_app(settings, runtime=runtime)
        client = app.test_client()
        assert runtime.dev_key is not None
        admin = mint_token(
            runtime.dev_key,
            authority_host=settings.authority_host,
            audience=settings.client_id,
            tenant_id=DEMO_TENANT_ID,
            object_id=str(uuid.uuid4()),
            roles=["Organisation.Admin"],
        )
        headers = {"Authorization": f"Bearer {admin}"}
        assert client.get("/v1/me", headers=headers).status_code == 200
        assert client.get("/readyz").status_code == 200
        requests_n = args.requests or max(200, n // 4)
        livez = per_call_us(lambda: client.get("/livez"), requests_n)
        me = per_call_us(lambda: client.get("/v1/me", headers=headers), requests_n)
        readyz = per_call_us(lambda: client.get("/readyz"), requests_n)
        print(
            f"http : GET /livez {livez:8.1f} us | GET /v1/me {me:8.1f} us "
            f"| auth overhead {me - livez:8.1f} us/request | ratio {me / livez:.2f}"
        )
        print(f"http : GET /readyz {readyz:8.1f} us | ratio to /livez {readyz / livez:.2f}")
        runtime.dispose()


if __name__ == "__main__":
    main()
