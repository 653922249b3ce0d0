"""Entra ID v2 access-token validation: RS256 only, issuer from `tid`, keys cached by `kid`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import JWSRegistry

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ALLOWED_ALGORITHMS = ["RS256"]
_REGISTRY = JWSRegistry(algorithms=ALLOWED_ALGORITHMS)


class InvalidToken(Exception):
    """The bearer token must not be trusted; ``reason`` is safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SigningKeys:
    keys: dict[str, RSAKey]
    fetched_at: float


class KeyCache:
    """Signing keys by `kid` from one JWKS URL.

    Keys live for ``ttl`` seconds; an unknown `kid` triggers a refresh at most once every
    ``min_refresh`` seconds, so a flood of forged `kid`s cannot make us hammer the key endpoint,
    while a real key rotation is picked up without a restart.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: float,
        min_refresh: float,
        fetch: Callable[[str], Mapping[str, Any]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.min_refresh = min_refresh
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._current = SigningKeys({}, fetched_at=float("-inf"))
        self._last_attempt = float("-inf")

    def get(self, kid: str) -> RSAKey | None:
        """The key for ``kid``, refreshing when stale or when the kid is new (rate-limited)."""
        now = self._clock()
        current = self._current
        if kid in current.keys and now - current.fetched_at < self.ttl:
            return current.keys[kid]
        with self._lock:
            current = self._current
            stale = now - current.fetched_at >= self.ttl
            if (kid not in current.keys or stale) and now - self._last_attempt >= self.min_refresh:
                self._last_attempt = now
                self._refresh(now)
            return self._current.keys.get(kid)

    def _refresh(self, now: float) -> None:
        try:
            document = self._fetch(self.url)
            keys = {}
            for jwk in document.get("keys", []):
                if jwk.get("kty") == "RSA" and jwk.get("kid") and jwk.get("use", "sig") == "sig":
                    keys[jwk["kid"]] = RSAKey.import_key(
                        {k: jwk[k] for k in ("kty", "n", "e", "kid") if k in jwk}
                    )
        except (requests.RequestException, ValueError, JoseError, TypeError, KeyError):
            # Keep serving the keys we have; the next attempt waits for min_refresh.
            return
        self._current = SigningKeys(keys, fetched_at=now)


def fetch_json(timeout: float, verify: str | bool = True) -> Callable[[str], Mapping[str, Any]]:
    """A fetcher for KeyCache over HTTPS."""

    def _get(url: str) -> Mapping[str, Any]:
        response = requests.get(url, timeout=timeout, verify=verify)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise TypeError("JWKS is not an object")
        return document

    return _get


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        segment = token.split(".", maxsplit=1)[0]
        padded = segment + "=" * (-len(segment) % 4)
        header = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, IndexError, binascii.Error, UnicodeDecodeError):
        raise InvalidToken("malformed token") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed token")
    return header


# Validated tokens remembered per process; a client reuses its token for up to an hour.
VALIDATED_CACHE_SIZE = 4096


class TokenValidator:
    """Validates Entra ID v2 access tokens for one API (audience) against cached keys.

    A token that passed is remembered, keyed by the SHA-256 of its full text, until its `exp`
    (without leeway), so that a client's next requests skip the signature check; the same
    string can only carry the same claims, and past `exp` it is checked in full again (and then
    refused once the leeway is over). Refusals are never remembered. At most
    ``cache_size`` tokens are kept (least recently used go first); 0 turns this off. Callers
    get a copy of the claims; nested values (`roles`) are shared and must only be read.
    """

    def __init__(
        self,
        *,
        audience: str,
        authority_host: str,
        remote_keys: KeyCache,
        local_keys: Mapping[str, RSAKey] | None = None,
        leeway: int = 120,
        clock: Callable[[], float] = time.time,
        cache_size: int = VALIDATED_CACHE_SIZE,
    ) -> None:
        self.audience = audience
        self.authority_host = authority_host.rstrip("/")
        self.remote_keys = remote_keys
        self.local_keys = dict(local_keys or {})
        self.leeway = leeway
        self._clock = clock
        self._cache_size = cache_size
        self._validated: OrderedDict[bytes, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def issuer_for(self, tenant_id: str) -> str:
        return f"{self.authority_host}/{tenant_id}/v2.0"

    def validate(self, token: str) -> dict[str, Any]:
        """Return the verified claims of ``token`` or raise InvalidToken."""
        digest = hashlib.sha256(token.encode()).digest()
        known = self._validated.get(digest)
        if known is not None:
            expires_at, claims = known
            if self._clock() < expires_at:
                with self._lock:
                    if digest in self._validated:
                        self._validated.move_to_end(digest)
                return dict(claims)
            with self._lock:
                self._validated.pop(digest, None)
        claims = self._validate(token)
        self._remember(digest, claims)
        return dict(claims)

    def _remember(self, digest: bytes, claims: dict[str, Any]) -> None:
        expires_at = claims.get("exp")
        if self._cache_size <= 0 or not isinstance(expires_at, int | float):
            return
        with self._lock:
            self._validated[digest] = (float(expires_at), claims)
            self._validated.move_to_end(digest)
            while len(self._validated) > self._cache_size:
                self._validated.popitem(last=False)

    def _validate(self, token: str) -> dict[str, Any]:
        if token.count(".") != 2:
            raise InvalidToken("malformed token")
        header = _unverified_header(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise InvalidToken("signing algorithm not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token names no signing key")
        key = self.local_keys.get(kid) or self.remote_keys.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims = jwt.decode(token, KeySet([key]), registry=_REGISTRY).claims
        except JoseError:
            raise InvalidToken("bad signature") from None
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        tenant_id = claims.get("tid")
        if not isinstance(tenant_id, str) or not GUID.match(tenant_id):
            raise InvalidToken("tid must be a tenant GUID")
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            leeway=self.leeway,
            exp={"essential": True},
            aud={"essential": True, "value": self.audience},
            iss={"essential": True, "value": self.issuer_for(tenant_id)},
            oid={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("token expired") from None
        except MissingClaimError as exc:
            raise InvalidToken(f"missing claim: {exc.claim}") from None
        except InvalidClaimError as exc:
            if exc.claim == "nbf":
                raise InvalidToken("token not yet valid") from None
            raise InvalidToken(f"invalid claim: {exc.claim}") from None
        except JoseError:
            raise InvalidToken("invalid claims") from None
        if claims.get("ver", "2.0") != "2.0":
            raise InvalidToken("only v2.0 access tokens are accepted")
        if not isinstance(claims.get("oid"), str) or not GUID.match(claims["oid"]):
            raise InvalidToken("oid must be a GUID")
