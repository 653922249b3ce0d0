"""An export's record lines: the content the database holds is embedded as it is, and the result
is the JSON of the record's metadata (as the API shows it) plus that content."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from facito_admin.common.schemas import OutputSchema
from facito_admin.subject_requests.archive import CSV_COLUMNS, _record

AT = datetime(2026, 3, 1, 9, 30, 5, 120, tzinfo=UTC)


def _row(content: str | None, **overrides: Any) -> SimpleNamespace:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "account_id": uuid.uuid4(),
        "product": "web-development",
        "category": "identity.contact",  # not a sensitive category
        "source_system": "crm",
        "external_key": "k-1",
        "subprocessor": "transip",
        "region": "transip-nl-amsterdam",
        "sensitive": False,
        "purposes": ["service_delivery", "support"],
        "content": content,
        "content_ref": None,
        "occurred_at": AT,
        "created_at": AT,
        "updated_at": AT,
        "deleted_at": None,
    }
    return SimpleNamespace(**(fields | overrides))


@pytest.mark.parametrize(
    ("stored", "content"),
    [
        ('{"note": "caf\\u00e9", "n": [1, 2]}', {"note": "café", "n": [1, 2]}),
        ('"just text"', "just text"),
        (None, None),
    ],
)
def test_a_record_line_is_its_metadata_and_the_stored_content_as_json(stored, content):
    row = _row(stored)
    text, cells = _record(row)
    record = json.loads(text)
    assert record["content"] == content
    assert record["id"] == str(row.id)
    assert record["has_content"] is (stored is not None)
    assert record["storage"] == {"subprocessor": "transip", "region": "transip-nl-amsterdam"}
    # Instants exactly as the API writes them.
    assert record["occurred_at"] == AT.strftime(OutputSchema.Meta.datetimeformat)
    csv = dict(zip(CSV_COLUMNS, cells, strict=True))
    assert csv["content"] == (stored or "")
    assert (csv["sensitive"], csv["purposes"]) == ("false", "service_delivery;support")


def test_csv_cells_a_spreadsheet_would_run_start_with_an_apostrophe():
    _, cells = _record(_row(None, external_key="=SUM(A1)", source_system="@crm"))
    csv = dict(zip(CSV_COLUMNS, cells, strict=True))
    assert (csv["external_key"], csv["source_system"]) == ("'=SUM(A1)", "'@crm")
