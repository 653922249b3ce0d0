"""Webhook signing secrets: made here, shown once, kept encrypted for signing.

Signing (HMAC-SHA256, Standard Webhooks) needs the secret itself, so it cannot be stored as a
hash like a password. It is encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package: authenticated, versioned tokens, no home-made crypto) under a key
derived with HKDF-SHA256 from FACITO_SECRET_KEY: a database dump alone does not reveal the
secrets, and no second key has to be deployed. Changing FACITO_SECRET_KEY makes stored
secrets unreadable: rotate the endpoints' secrets afterwards (`rotate-secret`).
"""

from __future__ import annotations

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
# 24 random bytes (192 bits), inside the 24-64 bytes Standard Webhooks asks for.
SECRET_BYTES = 24
_INFO = b"facito-admin webhook endpoint secrets v1"


class SecretUnreadable(RuntimeError):
    """A stored secret does not decrypt: FACITO_SECRET_KEY changed since it was made."""


def generate_secret() -> str:
    """A new signing secret in Standard Webhooks form: `whsec_` + base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str, *, secret_key: str) -> str:
    """The secret as a Fernet token for the database."""
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def decrypt_secret(token: str, *, secret_key: str) -> str:
    """The secret back from its Fernet token."""
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("the endpoint's secret does not decrypt with this key") from None
