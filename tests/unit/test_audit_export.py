"""Export formats alone: JSON lines that verify as a chain, CSV that spreadsheets cannot run."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

import pytest

from facito_admin.audit.chain import event_hash, genesis_hash, verify_chain
from facito_admin.audit.export import CHUNK_BYTES, COLUMNS, csv_safe, render
from facito_admin.audit.models import AuditEvent

ORG = uuid.UUID("0191d0c0-0000-7000-8000-000000000002")


def _events(count: int, display: str = "Ada") -> list[AuditEvent]:
    events = []
    prev = genesis_hash(str(ORG))
    for seq in range(1, count + 1):
        fields = {
            "id": uuid.uuid4(),
            "organisation_id": ORG,
            "seq": seq,
            "occurred_at": datetime(2025, 3, 1, 12, 0, seq % 60, seq, tzinfo=UTC),
            "actor_kind": "organisation_user",
            "actor_tid": "t",
            "actor_oid": "o",
            "actor_display": display,
            "action": "org:domain:claim",
            "target_type": "domain",
            "target_id": f"d{seq}",
            "outcome": "success",
            "request_id": f"r{seq}",
            "details": {"n": seq, "note": "=cmd|' /C calc'!A0", "naam": "Zoë"},
        }
        digest = event_hash(fields, prev)
        events.append(AuditEvent(**fields, prev_hash=prev, hash=digest))
        prev = digest
    return events


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+31 20 123", "'+31 20 123"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_cells_a_spreadsheet_would_evaluate_get_a_leading_apostrophe(cell: str, safe: str):
    assert csv_safe(cell) == safe


def test_jsonl_export_lines_recompute_to_a_valid_chain():
    events = _events(3)
    body = b"".join(render("jsonl", events)).decode()
    lines = [json.loads(line) for line in body.splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[0]["occurred_at"] == "2025-03-01T12:00:01.000001Z"
    assert list(lines[0]) == list(COLUMNS)
    report = verify_chain(str(ORG), lines)
    assert report.valid
    assert report.checked == 3


def test_csv_export_has_a_header_and_neutralised_formula_cells():
    events = _events(2, display='=HYPERLINK("http://evil")')
    body = b"".join(render("csv", events)).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 3
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["actor_display"] == '\'=HYPERLINK("http://evil")'
    assert json.loads(record["details"])["note"].startswith("=cmd")
    assert record["seq"] == "1"


def test_a_large_export_is_sent_in_bounded_chunks():
    chunks = list(render("jsonl", _events(1500)))
    assert len(chunks) > 1
    assert all(len(chunk) < CHUNK_BYTES + 2048 for chunk in chunks)
    assert b"".join(chunks).count(b"\n") == 1500


def test_an_unknown_format_is_refused_before_anything_is_read():
    with pytest.raises(ValueError, match="xml"):
        render("xml", iter(()))
