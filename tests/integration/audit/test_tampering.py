"""Edits and deletions made behind the application's back are named by /verify and the CLI."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import JSON, Uuid, bindparam, text

from facito_admin.cli import main
from facito_admin.db.session import cross_organisation_session
from tests.conftest import Org
from tests.factories.audit import record_events


def _sql(runtime, statement: str, **params) -> int:
    """Raw SQL as someone with database access would run it (RLS lets the escape through)."""
    query = text(statement).bindparams(
        *(
            bindparam(name, type_=Uuid() if isinstance(v, uuid.UUID) else JSON())
            for name, v in params.items()
            if isinstance(v, (uuid.UUID, dict))
        )
    )
    with cross_organisation_session(runtime, reason="test: tamper with the audit log") as s:
        return s.execute(query, params).rowcount


def _verify(client, auth, org: Org) -> dict:
    response = client.get(
        f"/v1/organisations/{org.id}/audit-events/verify", headers=auth(org, "Organisation.Admin")
    )
    assert response.status_code == 200
    return response.get_json()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_display", "Mallory"),
        ("action", "org:domain:verify"),
        ("target_id", "someone-else"),
        ("request_id", "forged"),
        ("details", {"n": 99}),
    ],
)
def test_an_edited_column_is_named_as_content_altered(
    client, auth, runtime, org_a, org_b, column, value
):
    events = record_events(runtime, org_a.id, 5)
    victim = events[2]  # seq 4: the organisation's creation is seq 1
    changed = _sql(
        runtime,
        # The column names come from the parametrisation above, not from input.
        f"UPDATE audit_events SET {column} = :value WHERE organisation_id = :org AND id = :id",  # noqa: S608
        value=value,
        org=org_a.id,
        id=victim.id,
    )
    assert changed == 1
    report = _verify(client, auth, org_a)
    assert report["valid"] is False
    assert report["first_broken"] == {
        "seq": 4,
        "event_id": str(victim.id),
        "reason": "content-altered",
    }
    assert _verify(client, auth, org_b)["valid"] is True


def test_an_edited_timestamp_is_named_as_content_altered(client, auth, runtime, org_a, org_b):
    events = record_events(runtime, org_a.id, 3)
    _sql(
        runtime,
        "UPDATE audit_events SET occurred_at = (SELECT occurred_at FROM audit_events AS e"
        " WHERE e.organisation_id = :org AND e.seq = 1) WHERE organisation_id = :org AND id = :id",
        org=org_a.id,
        id=events[1].id,
    )
    assert _verify(client, auth, org_a)["first_broken"] == {
        "seq": 3,
        "event_id": str(events[1].id),
        "reason": "content-altered",
    }


def test_a_deleted_event_in_the_middle_is_reported_missing(client, auth, runtime, org_a, org_b):
    events = record_events(runtime, org_a.id, 5)
    _sql(
        runtime,
        "DELETE FROM audit_events WHERE organisation_id = :org AND id = :id",
        org=org_a.id,
        id=events[1].id,
    )
    report = _verify(client, auth, org_a)
    assert report == {
        "valid": False,
        "checked": 3,
        "first_broken": {"seq": 3, "event_id": None, "reason": "missing-event"},
        "pruned": None,
        "head": {"seq": 6, "hash": events[-1].hash},
        "waiting": {"count": 0, "oldest_recorded_at": None},
        "checkpoint": None,
    }


def test_a_deleted_last_event_is_reported_missing(client, auth, runtime, org_a, org_b):
    events = record_events(runtime, org_a.id, 4)
    _sql(
        runtime,
        "DELETE FROM audit_events WHERE organisation_id = :org AND id = :id",
        org=org_a.id,
        id=events[-1].id,
    )
    report = _verify(client, auth, org_a)
    assert report["first_broken"] == {"seq": 5, "event_id": None, "reason": "missing-event"}
    assert report["checked"] == 4


def test_a_rewound_head_is_reported(client, auth, runtime, org_a, org_b):
    events = record_events(runtime, org_a.id, 2)
    _sql(
        runtime,
        "UPDATE audit_chain_heads SET hash = :h WHERE organisation_id = :org",
        h="0" * 64,
        org=org_a.id,
    )
    assert _verify(client, auth, org_a)["first_broken"] == {
        "seq": 3,
        "event_id": str(events[-1].id),
        "reason": "head-mismatch",
    }


def test_the_cli_prints_the_report_and_fails_on_a_broken_chain(runtime, org_a, org_b, monkeypatch):
    monkeypatch.setenv("FACITO_ENV", "test")
    monkeypatch.setenv("FACITO_DATABASE_URL", runtime.database.url)
    events = record_events(runtime, org_a.id, 3)
    runner = CliRunner()

    result = runner.invoke(main, ["audit", "verify", "--org", "org-a"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "organisation": "org-a",
        "valid": True,
        "checked": 4,
        "first_broken": None,
        "pruned": None,
    }

    _sql(
        runtime,
        "UPDATE audit_events SET outcome = 'failure' WHERE organisation_id = :org AND id = :id",
        org=org_a.id,
        id=events[0].id,
    )
    result = runner.invoke(main, ["audit", "verify", "--org", "org-a"])
    assert result.exit_code == 1
    assert json.loads(result.output)["first_broken"] == {
        "seq": 2,
        "event_id": str(events[0].id),
        "reason": "content-altered",
    }
    assert runner.invoke(main, ["audit", "verify", "--org", "org-b"]).exit_code == 0
    unknown = runner.invoke(main, ["audit", "verify", "--org", "nope"])
    assert unknown.exit_code == 1
    assert "no organisation 'nope'" in unknown.output
