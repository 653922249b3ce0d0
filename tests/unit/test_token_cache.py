"""Validated tokens are remembered by their full text until they expire; refusals never are."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
import time_machine
from joserfc import jwt
from joserfc.jwk import RSAKey

from facito_admin.auth.tokens import InvalidToken, KeyCache, TokenValidator

AUTHORITY = "https://login.microsoftonline.com"
AUDIENCE = str(uuid.uuid4())
TENANT = str(uuid.uuid4())
KEY = RSAKey.generate_key(2048, parameters={"kid": "cache-test"})


def _validator(cache_size: int = 4096) -> TokenValidator:
    public = RSAKey.import_key(KEY.as_dict(private=False))
    return TokenValidator(
        audience=AUDIENCE,
        authority_host=AUTHORITY,
        remote_keys=KeyCache("unused", ttl=60, min_refresh=60, fetch=lambda _url: {"keys": []}),
        local_keys={"cache-test": public},
        leeway=60,
        cache_size=cache_size,
    )


def _token(**overrides: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "aud": AUDIENCE,
        "iss": f"{AUTHORITY}/{TENANT}/v2.0",
        "tid": TENANT,
        "oid": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "ver": "2.0",
        "roles": ["Organisation.Reader"],
    }
    claims.update(overrides)
    return jwt.encode({"alg": "RS256", "kid": KEY.kid}, claims, KEY)


def test_a_remembered_token_is_refused_once_it_has_expired():
    validator = _validator()
    token = _token()
    assert validator.validate(token)["tid"] == TENANT
    assert validator.validate(token)["tid"] == TENANT
    with (
        time_machine.travel(time.time() + 600 + 61, tick=False),
        pytest.raises(InvalidToken, match="expired"),
    ):
        validator.validate(token)


def test_a_refused_token_is_checked_again_next_time():
    validator = _validator()
    early = _token(nbf=int(time.time()) + 300, exp=int(time.time()) + 900)
    with pytest.raises(InvalidToken, match="not yet valid"):
        validator.validate(early)
    with time_machine.travel(time.time() + 300, tick=False):
        assert validator.validate(early)["tid"] == TENANT


def test_an_altered_copy_of_a_remembered_token_is_still_refused():
    validator = _validator()
    token = _token()
    validator.validate(token)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["Organisation.Admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(InvalidToken, match="signature"):
        validator.validate(f"{header}.{forged}.{signature}")


def test_callers_cannot_change_what_is_remembered():
    validator = _validator()
    token = _token()
    first = validator.validate(token)
    first["tid"] = str(uuid.uuid4())
    first["oid"] = "someone else"
    again = validator.validate(token)
    assert again["tid"] == TENANT
    assert again["oid"] != "someone else"


def test_each_token_gets_its_own_claims_and_the_memory_is_bounded():
    validator = _validator(cache_size=2)
    tokens = [_token() for _ in range(3)]
    for _ in range(2):
        oids = [validator.validate(token)["oid"] for token in tokens]
        assert len(set(oids)) == 3
    assert len(validator._validated) == 2
