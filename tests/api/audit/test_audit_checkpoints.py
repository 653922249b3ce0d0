"""Signed checkpoints over the API: made by administrators, listed and checked by whoever reads
the log, verifiable with the public keys, confined to their organisation, refused when forged."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from joserfc import jws
from joserfc.jwk import ECKey, KeySet

from facito_admin.audit.checkpoints import CHECKPOINT_TYPE
from facito_admin.auth.audit_keys import AuditKeys
from facito_admin.auth.permissions import GrantAccess
from tests.conftest import Org
from tests.factories.audit import record_events
from tests.factories.runtime import swapped
from tests.factories.support_access import grant_access

ADMIN = "Organisation.Admin"
KEYS_URL = "/.well-known/facito-audit-keys"


def _url(org: Org) -> str:
    return f"/v1/organisations/{org.id}/audit-checkpoints"


def _verify_url(org: Org) -> str:
    return f"/v1/organisations/{org.id}/audit-events/verify"


def _checkpoint(client, auth, org: Org) -> dict:
    response = client.post(_url(org), headers=auth(org, ADMIN))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _verify(client, headers, org: Org, token: str):
    return client.get(_verify_url(org), headers=headers, query_string={"checkpoint": token})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_checkpoint_signs_the_head_before_the_event_that_records_it(
    client, auth, runtime, org_a, org_b
):
    record_events(runtime, org_a.id, 3)
    checkpoint = _checkpoint(client, auth, org_a)
    # The organisation's creation and three events: the head the request found.
    assert checkpoint["seq"] == 4
    assert checkpoint["made_by"] == "request"
    events = client.get(
        f"/v1/organisations/{org_a.id}/audit-events", headers=auth(org_a, ADMIN)
    ).get_json()["items"]
    recorded, signed = events[0], events[1]
    assert recorded["seq"] == 5
    assert recorded["action"] == "org:audit-log:checkpoint"
    assert recorded["target_id"] == checkpoint["id"]
    assert recorded["details"] == {
        "seq": 4,
        "hash": checkpoint["hash"],
        "key_id": checkpoint["key_id"],
    }
    assert signed["seq"] == 4
    assert signed["hash"] == checkpoint["hash"]


def test_a_customer_verifies_a_checkpoint_with_the_public_keys_alone(
    client, auth, runtime, org_a, org_b
):
    checkpoint = _checkpoint(client, auth, org_a)
    # No token: anyone may fetch the keys, and caches may keep them.
    served = client.get(KEYS_URL)
    assert served.status_code == 200
    assert served.headers["Cache-Control"] == "public, max-age=3600"
    keys = served.get_json()["keys"]
    assert keys[0] | {"x": "", "y": ""} == {
        "kty": "EC",
        "crv": "P-256",
        "x": "",
        "y": "",
        "kid": checkpoint["key_id"],
        "use": "sig",
        "alg": "ES256",
    }
    assert all("d" not in key for key in keys)
    # What a customer's own JOSE library does with the JWS and the JWK Set.
    opened = jws.deserialize_compact(checkpoint["jws"], KeySet.import_key_set({"keys": keys}))
    assert opened.headers() == {
        "alg": "ES256",
        "kid": checkpoint["key_id"],
        "typ": CHECKPOINT_TYPE,
    }
    claims = json.loads(opened.payload)
    assert claims == {
        "organisation_id": str(org_a.id),
        "seq": checkpoint["seq"],
        "hash": checkpoint["hash"],
        "issued_at": claims["issued_at"],
    }
    assert _instant(claims["issued_at"]) == _instant(checkpoint["issued_at"])


def test_verify_confirms_a_checkpoint_that_the_chain_extends(client, auth, runtime, org_a, org_b):
    checkpoint = _checkpoint(client, auth, org_a)
    record_events(runtime, org_a.id, 5)
    response = _verify(client, auth(org_a, "Privacy.Officer"), org_a, checkpoint["jws"])
    assert response.status_code == 200
    report = response.get_json()
    assert report["valid"] is True
    assert report["checkpoint"] == {
        "seq": checkpoint["seq"],
        "hash": checkpoint["hash"],
        "issued_at": checkpoint["issued_at"],
        "key_id": checkpoint["key_id"],
        "matches": True,
        "reason": "extended",
        "first_broken": None,
    }
    # The checkpoint of the head itself, with nothing after it, holds too.
    latest = _checkpoint(client, auth, org_a)
    report = _verify(client, auth(org_a, ADMIN), org_a, latest["jws"]).get_json()
    assert report["checkpoint"]["matches"] is True


def test_a_checkpoint_of_another_organisation_is_refused_and_says_nothing_of_its_chain(
    client, auth, runtime, org_a, org_b
):
    theirs = _checkpoint(client, auth, org_b)
    response = _verify(client, auth(org_a, ADMIN), org_a, theirs["jws"])
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "checkpoint-rejected"
    assert problem["reason"] == "other-organisation"
    assert theirs["hash"] not in response.get_data(as_text=True)
    # And org B's own admin cannot verify org A's chain at all.
    mine = _checkpoint(client, auth, org_a)
    assert _verify(client, auth(org_b, ADMIN), org_a, mine["jws"]).status_code == 404


def test_a_forged_signature_is_refused(client, auth, runtime, org_a, org_b):
    checkpoint = _checkpoint(client, auth, org_a)
    mallory = ECKey.generate_key("P-256")
    header = {"alg": "ES256", "kid": checkpoint["key_id"], "typ": CHECKPOINT_TYPE}
    forged = jws.serialize_compact(header, json.dumps(_payload(checkpoint["jws"])), mallory)
    response = _verify(client, auth(org_a, ADMIN), org_a, forged)
    assert response.status_code == 422
    assert response.get_json()["reason"] == "bad-signature"


def test_a_tampered_payload_is_refused(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, 2)
    checkpoint = _checkpoint(client, auth, org_a)
    header, _payload_part, signature = checkpoint["jws"].split(".")
    claims = _payload(checkpoint["jws"]) | {"seq": 2}
    tampered = ".".join((header, _b64(json.dumps(claims).encode()), signature))
    response = _verify(client, auth(org_a, ADMIN), org_a, tampered)
    assert response.status_code == 422
    assert response.get_json()["reason"] == "bad-signature"


def test_a_key_facito_does_not_serve_is_refused(client, auth, runtime, org_a, org_b):
    checkpoint = _checkpoint(client, auth, org_a)
    other = ECKey.generate_key("P-256")
    header = {"alg": "ES256", "kid": "someone-elses-key", "typ": CHECKPOINT_TYPE}
    token = jws.serialize_compact(header, json.dumps(_payload(checkpoint["jws"])), other)
    response = _verify(client, auth(org_a, ADMIN), org_a, token)
    assert response.status_code == 422
    assert response.get_json()["reason"] == "unknown-key"


def test_what_is_not_a_checkpoint_is_refused_with_its_reason(client, auth, runtime, org_a, org_b):
    checkpoint = _checkpoint(client, auth, org_a)
    _header, payload, signature = checkpoint["jws"].split(".")
    unsigned = _b64(json.dumps({"alg": "none", "typ": CHECKPOINT_TYPE}).encode())
    token_typed = _b64(
        json.dumps({"alg": "ES256", "kid": checkpoint["key_id"], "typ": "JWT"}).encode()
    )
    cases = {
        "not-a-jws": "malformed",
        "a.b": "malformed",
        "%%%.%%%.%%%": "malformed",
        f"{unsigned}.{payload}.": "malformed",
        f"{unsigned}.{payload}.{signature}": "unsupported-algorithm",
        f"{token_typed}.{payload}.{signature}": "wrong-type",
    }
    headers = auth(org_a, ADMIN)
    for token, reason in cases.items():
        response = _verify(client, headers, org_a, token)
        assert response.status_code == 422, token
        assert response.content_type == "application/problem+json"
        assert response.get_json()["reason"] == reason, token
    too_long = _verify(client, headers, org_a, "a" * 5000)
    assert too_long.status_code == 422


def test_a_checkpoint_signed_before_a_key_rotation_still_verifies(
    client, auth, runtime, org_a, org_b
):
    before = _checkpoint(client, auth, org_a)
    old = runtime.audit_keys
    new_key = ECKey.generate_key("P-256")
    rotated = AuditKeys(
        signing=new_key,
        kid="rotated-key",
        public={**old.public, "rotated-key": ECKey.import_key(new_key.as_dict(private=False))},
    )
    with swapped(runtime, audit_keys=rotated):
        served = [key["kid"] for key in client.get(KEYS_URL).get_json()["keys"]]
        assert served == ["rotated-key", old.kid]
        after = _checkpoint(client, auth, org_a)
        assert after["key_id"] == "rotated-key"
        for checkpoint in (before, after):
            report = _verify(client, auth(org_a, ADMIN), org_a, checkpoint["jws"]).get_json()
            assert report["checkpoint"]["matches"] is True
    # A key that is no longer served no longer vouches for anything.
    response = _verify(client, auth(org_a, ADMIN), org_a, after["jws"])
    assert response.get_json()["reason"] == "unknown-key"


def test_checkpoints_are_listed_newest_first_a_page_at_a_time(client, auth, runtime, org_a, org_b):
    made = [_checkpoint(client, auth, org_a)["id"] for _ in range(3)]
    _checkpoint(client, auth, org_b)
    headers = auth(org_a, "Privacy.Officer")
    first = client.get(_url(org_a), headers=headers, query_string={"limit": 2})
    assert first.status_code == 200
    body = first.get_json()
    assert [c["id"] for c in body["items"]] == made[::-1][:2]
    link = first.headers["Link"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(link[1:-13]).query).items()}
    second = client.get(_url(org_a), headers=headers, query_string=query).get_json()
    assert [c["id"] for c in second["items"]] == made[:1]
    assert second["next_cursor"] is None


def test_checkpoints_of_one_organisation_are_invisible_to_another(
    client, auth, runtime, org_a, org_b
):
    mine = _checkpoint(client, auth, org_a)
    admin_b = auth(org_b, ADMIN)
    assert client.get(_url(org_a), headers=admin_b).status_code == 404
    assert client.post(_url(org_a), headers=admin_b).status_code == 404
    theirs = client.get(_url(org_b), headers=admin_b).get_json()["items"]
    assert theirs == []
    assert mine["id"] not in json.dumps(theirs)


def test_readers_of_the_log_list_and_verify_but_only_administrators_create(
    client, auth, runtime, org_a, org_b
):
    checkpoint = _checkpoint(client, auth, org_a)
    officer = auth(org_a, "Privacy.Officer")
    assert client.get(_url(org_a), headers=officer).status_code == 200
    assert _verify(client, officer, org_a, checkpoint["jws"]).status_code == 200
    refused = client.post(_url(org_a), headers=officer)
    assert refused.status_code == 403
    assert refused.get_json()["missing_permissions"] == ["org:audit-checkpoints:write"]
    # Readers of the organisation do not read its audit log, checkpoints included.
    reader = auth(org_a, "Organisation.Reader")
    assert client.get(_url(org_a), headers=reader).status_code == 403
    assert client.post(_url(org_a), headers=reader).status_code == 403
    integration = auth(org_a, "Integration.ReadWrite", app=True)
    assert client.post(_url(org_a), headers=integration).status_code == 403
    assert client.post(_url(org_a)).status_code == 401


def test_staff_read_checkpoints_through_a_grant_and_never_make_one(
    client, auth, runtime, org_a, org_b
):
    checkpoint = _checkpoint(client, auth, org_a)
    oid = str(uuid.uuid4())
    operator = auth(None, "Facito.Operator", oid=oid)
    # Without a grant, the audit log does not exist for staff.
    assert client.get(_url(org_a), headers=operator).status_code == 404
    assert client.post(_url(org_a), headers=operator).status_code == 404
    grant_access(
        runtime,
        org_a.id,
        oid,
        access=GrantAccess.ReadWrite,
        resource_kinds=("accounts", "domains", "jobs"),
    )
    listed = client.get(_url(org_a), headers=operator)
    assert [c["id"] for c in listed.get_json()["items"]] == [checkpoint["id"]]
    assert _verify(client, operator, org_a, checkpoint["jws"]).status_code == 200
    # Whether to ask for proof against Facito is the organisation's own decision.
    assert client.post(_url(org_a), headers=operator).status_code == 403
    assert client.get(_url(org_b), headers=operator).status_code == 404
