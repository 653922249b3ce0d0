"""Exports stream every event of the organisation, in a session of their own, safely encoded."""

from __future__ import annotations

import csv
import io
import json

from facito_admin.audit.chain import verify_chain
from facito_admin.audit.service import EXPORT_BATCH
from tests.conftest import Org
from tests.factories.audit import record_events

# More than two export batches, so the stream reads after its request has finished.
MANY = 2 * EXPORT_BATCH + 50


def _export(org: Org, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/v1/organisations/{org.id}/audit-events/export" + (f"?{query}" if query else "")


def test_jsonl_export_streams_every_event_in_chain_order(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, MANY)
    response = client.get(_export(org_a), headers=auth(org_a, "Organisation.Admin"))
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    assert response.is_streamed
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="audit-events-{org_a.id}-')
    assert disposition.endswith('.jsonl"')
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, MANY + 2))
    assert {line["organisation_id"] for line in lines} == {str(org_a.id)}
    # Lines carry the canonical values and hashes: anyone can recompute the chain from them.
    assert verify_chain(str(org_a.id), lines).valid


def test_csv_export_streams_every_event_with_a_header(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, MANY, display="=1+1")
    response = client.get(_export(org_a, format="csv"), headers=auth(org_a, "Privacy.Officer"))
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(row["seq"]) for row in rows] == list(range(1, MANY + 2))
    assert {row["actor_display"] for row in rows[1:]} == {"'=1+1"}
    assert json.loads(rows[1]["details"]) == {"n": 0}


def test_exports_apply_the_filters_and_order(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, 3, action="org:domain:claim")
    record_events(runtime, org_a.id, 2, action="org:federation:attach")
    response = client.get(
        _export(org_a, action="org:federation:*", order="desc"),
        headers=auth(org_a, "Organisation.Admin"),
    )
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [line["seq"] for line in lines] == [6, 5]


def test_an_empty_export_is_an_empty_body_or_only_a_header(client, auth, runtime, org_a, org_b):
    headers = auth(org_a, "Organisation.Admin")
    assert client.get(_export(org_a, target="none"), headers=headers).get_data() == b""
    body = client.get(_export(org_a, target="none", format="csv"), headers=headers).get_data()
    assert body.decode().startswith("id,organisation_id,seq,")
    assert body.count(b"\n") == 1


def test_a_stream_holds_no_connection_between_chunks(client, auth, runtime, org_a, org_b):
    record_events(runtime, org_a.id, MANY)
    response = client.get(_export(org_a), headers=auth(org_a, "Organisation.Admin"), buffered=False)
    chunks = iter(response.response)
    received = [next(chunks)]
    # The request's own session is closed; the export reads batch by batch in short sessions.
    assert runtime.database.engine.pool.checkedout() == 0
    received.extend(chunks)
    response.close()
    assert runtime.database.engine.pool.checkedout() == 0
    assert b"".join(received).count(b"\n") == MANY + 1


def test_an_unknown_format_is_refused(client, auth, org_a, org_b):
    response = client.get(_export(org_a, format="xml"), headers=auth(org_a, "Organisation.Admin"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "format"
