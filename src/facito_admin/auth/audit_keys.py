"""Facito's audit signing keys: the ES256 keys that sign checkpoints of organisations' chains.

One private key signs (``FACITO_AUDIT_SIGNING_KEY``: a JWK or PEM file; in development and
tests a key created in the instance folder on first start). Its public half and those of the
keys it replaced (``FACITO_AUDIT_RETIRED_KEYS``: a JWK Set file of public keys) are served at
``/.well-known/facito-audit-keys`` and accepted when a customer brings a checkpoint back, so a
rotation never invalidates what customers kept: each JWS names its key in its ``kid`` header.

ES256 (ECDSA P-256, SHA-256): joserfc's registry counts it among the recommended algorithms
(allowed without opting in), and every JOSE library and WebCrypto verify it, so customers can
check a checkpoint with what they already have. EdDSA is not recommended by joserfc and is
deprecated by RFC 9864, whose replacement ("Ed25519") few libraries know yet.
"""

from __future__ import annotations

import binascii
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import ECKey
from joserfc.util import urlsafe_b64decode

from ..config import ConfigurationError, Environment, Settings

ALGORITHM = "ES256"
CURVE = "P-256"
# The development and test key, created on first start in the instance folder.
DEV_KEY_FILE = "audit-signing-key.json"


class SignatureRejected(ValueError):
    """A compact JWS that does not verify; ``reason`` is a stable kebab-case name."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class AuditKeys:
    """The signing key and every public key still accepted, by kid."""

    signing: ECKey
    kid: str
    public: dict[str, ECKey]

    def sign(self, *, typ: str, payload: bytes) -> str:
        """A compact JWS of ``payload`` with the signing key (header: alg, kid, typ)."""
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": typ}
        return jws.serialize_compact(header, payload, self.signing, algorithms=[ALGORITHM])

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JWK Set (the signing key first)."""
        ordered = [self.kid, *sorted(k for k in self.public if k != self.kid)]
        return {"keys": [_public_jwk(self.public[kid], kid) for kid in ordered]}

    def open(self, token: str, *, typ: str) -> tuple[str, bytes]:
        """The key id and payload of a compact JWS of ``typ`` that one of our keys signed.

        Raises SignatureRejected: malformed, unsupported-algorithm, wrong-type, unknown-key,
        bad-signature.
        """
        header = _header(token)
        if header.get("alg") != ALGORITHM:
            raise SignatureRejected("unsupported-algorithm", f"only {ALGORITHM} is accepted")
        if header.get("typ") != typ:
            raise SignatureRejected("wrong-type", f"the JWS is not of type {typ}")
        kid = header.get("kid")
        key = self.public.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise SignatureRejected("unknown-key", "the JWS names no key of ours (kid)")
        try:
            signature = jws.deserialize_compact(token, key, algorithms=[ALGORITHM])
        except BadSignatureError:
            raise SignatureRejected("bad-signature", "the signature does not verify") from None
        except (JoseError, ValueError):
            raise SignatureRejected("malformed", "not a compact JWS") from None
        return str(kid), signature.payload


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise SignatureRejected("malformed", "not a compact JWS (three base64url parts)")
    try:
        header = json.loads(urlsafe_b64decode(parts[0].encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise SignatureRejected("malformed", "the JWS header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise SignatureRejected("malformed", "the JWS header is not a JSON object")
    return header


def _public_jwk(key: ECKey, kid: str) -> dict[str, Any]:
    public = key.as_dict(private=False)
    return {
        "kty": public["kty"],
        "crv": public["crv"],
        "x": public["x"],
        "y": public["y"],
        "kid": kid,
        "use": "sig",
        "alg": ALGORITHM,
    }


def _import(data: Any, source: Path, *, private: bool) -> tuple[ECKey, str]:
    try:
        key = ECKey.import_key(data)
    except (JoseError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"{source}: not an EC key ({exc})") from None
    if key.as_dict(private=False).get("crv") != CURVE:
        raise ConfigurationError(f"{source}: the audit key must be on {CURVE} ({ALGORITHM})")
    if private and not key.is_private:
        raise ConfigurationError(f"{source}: the audit signing key must be a private key")
    kid = data.get("kid") if isinstance(data, dict) else None
    # A PEM carries no kid: its RFC 7638 thumbprint names it, stable across restarts.
    return key, str(kid or key.thumbprint())


def _read_key(path: Path) -> tuple[ECKey, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"FACITO_AUDIT_SIGNING_KEY: cannot read {path} ({exc})") from None
    if not text.lstrip().startswith("{"):
        return _import(text.encode("utf-8"), path, private=True)
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigurationError(f"FACITO_AUDIT_SIGNING_KEY: {path} is not JSON") from None
    return _import(data, path, private=True)


def _read_retired(path: Path) -> dict[str, ECKey]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"FACITO_AUDIT_RETIRED_KEYS: cannot read {path} ({exc})") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise ConfigurationError(f"FACITO_AUDIT_RETIRED_KEYS: {path} is not a JWK Set")
    found: dict[str, ECKey] = {}
    for item in keys:
        if not isinstance(item, dict) or not item.get("kid"):
            raise ConfigurationError(f"FACITO_AUDIT_RETIRED_KEYS: every key in {path} needs a kid")
        key, kid = _import(item, path, private=False)
        found[kid] = ECKey.import_key(key.as_dict(private=False))
    return found


def _load_or_create_dev_key(instance_path: Path) -> tuple[ECKey, str]:
    path = instance_path / DEV_KEY_FILE
    if not path.exists():
        kid = f"facito-audit-dev-{uuid.uuid4().hex[:12]}"
        key = ECKey.generate_key(CURVE, parameters={"kid": kid})
        instance_path.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place: two processes starting at once keep one key.
        spare = instance_path / f".{DEV_KEY_FILE}.{uuid.uuid4().hex}"
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(key.as_dict(private=True) | {"kid": kid}, handle)
        try:
            os.link(spare, path)
        except FileExistsError:
            pass
        finally:
            spare.unlink()
    return _read_key(path)


def load_audit_keys(settings: Settings) -> AuditKeys:
    """The keys of ``settings``: the configured signing key, or the instance folder's."""
    if settings.audit_signing_key is not None:
        signing, kid = _read_key(settings.audit_signing_key)
    elif settings.env is Environment.production:
        raise ConfigurationError("FACITO_AUDIT_SIGNING_KEY must be set in production")
    else:
        signing, kid = _load_or_create_dev_key(settings.instance_path)
    public = {}
    if settings.audit_retired_keys is not None:
        public = _read_retired(settings.audit_retired_keys)
    public[kid] = ECKey.import_key(signing.as_dict(private=False))
    return AuditKeys(signing=signing, kid=kid, public=public)
