"""Facito's audit signing keys: configured as JWK or PEM, made once per instance folder in
development, required in production, and old public keys kept for checkpoints they signed."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from joserfc.jwk import ECKey, RSAKey

from facito_admin.auth.audit_keys import DEV_KEY_FILE, SignatureRejected, load_audit_keys
from facito_admin.config import ConfigurationError, Environment, Settings

TYPE = "facito-audit-checkpoint+jws"


def _settings(tmp_path: Path, **values) -> Settings:
    return Settings(env=Environment.test, instance_path=tmp_path / "instance", **values)


def test_development_makes_one_key_in_the_instance_folder_and_keeps_it(tmp_path: Path):
    first = load_audit_keys(_settings(tmp_path))
    again = load_audit_keys(_settings(tmp_path))
    assert first.kid == again.kid
    assert first.kid.startswith("facito-audit-dev-")
    key_file = tmp_path / "instance" / DEV_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert list((tmp_path / "instance").iterdir()) == [key_file]
    token = first.sign(typ=TYPE, payload=b'{"seq":1}')
    assert again.open(token, typ=TYPE) == (first.kid, b'{"seq":1}')


def test_a_configured_pem_key_is_named_by_its_thumbprint(tmp_path: Path):
    key = ECKey.generate_key("P-256")
    path = tmp_path / "audit.pem"
    path.write_bytes(key.as_pem(private=True))
    keys = load_audit_keys(_settings(tmp_path, audit_signing_key=path))
    assert keys.kid == key.thumbprint()
    assert [k["kid"] for k in keys.jwks()["keys"]] == [key.thumbprint()]
    assert not (tmp_path / "instance").exists()


def test_retired_keys_are_served_and_still_verify_what_they_signed(tmp_path: Path):
    old = ECKey.generate_key("P-256", parameters={"kid": "2026-01"})
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(old.as_dict(private=True) | {"kid": "2026-01"}))
    signed_before = load_audit_keys(_settings(tmp_path, audit_signing_key=old_path)).sign(
        typ=TYPE, payload=b"{}"
    )
    new = ECKey.generate_key("P-256")
    new_path = tmp_path / "new.json"
    new_path.write_text(json.dumps(new.as_dict(private=True) | {"kid": "2026-07"}))
    retired = tmp_path / "retired.json"
    retired.write_text(json.dumps({"keys": [old.as_dict(private=False) | {"kid": "2026-01"}]}))
    keys = load_audit_keys(
        _settings(tmp_path, audit_signing_key=new_path, audit_retired_keys=retired)
    )
    assert keys.kid == "2026-07"
    assert [k["kid"] for k in keys.jwks()["keys"]] == ["2026-07", "2026-01"]
    assert keys.open(signed_before, typ=TYPE) == ("2026-01", b"{}")
    without_retired = load_audit_keys(_settings(tmp_path, audit_signing_key=new_path))
    with pytest.raises(SignatureRejected) as refused:
        without_retired.open(signed_before, typ=TYPE)
    assert refused.value.reason == "unknown-key"


def test_keys_that_cannot_sign_checkpoints_stop_the_start(tmp_path: Path):
    rsa = tmp_path / "rsa.json"
    rsa.write_text(json.dumps(RSAKey.generate_key(2048).as_dict(private=True)))
    public = tmp_path / "public.json"
    public.write_text(json.dumps(ECKey.generate_key("P-256").as_dict(private=False)))
    p384 = tmp_path / "p384.pem"
    p384.write_bytes(ECKey.generate_key("P-384").as_pem(private=True))
    for path in (rsa, public, p384, tmp_path / "missing.pem"):
        with pytest.raises(ConfigurationError):
            load_audit_keys(_settings(tmp_path, audit_signing_key=path))
    no_kid = tmp_path / "retired.json"
    no_kid.write_text(json.dumps({"keys": [ECKey.generate_key("P-256").as_dict()]}))
    with pytest.raises(ConfigurationError, match="kid"):
        load_audit_keys(_settings(tmp_path, audit_retired_keys=no_kid))
