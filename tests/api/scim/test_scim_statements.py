"""How many SQL statements a SCIM create and a filtered get run: the hot paths of provisioning.

Pinned so that a query added to them shows up here, not first in bench/scim.py. Counted are the
statements that read or write tables; transaction control (BEGIN, COMMIT, savepoints) and
PostgreSQL's per-transaction tenant settings in a statement of their own (db/session.py) are
not the request's own work. (A first read that gives the settings itself, db/tenancy.py, is.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from sqlalchemy import event

from tests.api.scim.conftest import SCIM, create_user, new_user

_OWN_WORK = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


@contextmanager
def statements(runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        text = " ".join(statement.split())
        if text.upper().startswith(_OWN_WORK) and not text.startswith("SELECT set_config("):
            seen.append(text)

    event.listen(runtime.database.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(runtime.database.engine, "before_cursor_execute", note)


def test_a_scim_create_reads_the_token_probes_uniqueness_and_writes_account_and_event(
    client, runtime, org_a, org_b, scim_a
):
    create_user(client, scim_a, "first@example.com")  # the token's first use is noted once
    with statements(runtime) as seen:
        created = client.post(f"{SCIM}/Users", json=new_user("second@example.com"), headers=scim_a)
    assert created.status_code == 201
    assert [s.split(" ", 2)[:2] for s in seen] == [
        ["SELECT", "scim_tokens.organisation_id,"],  # the token and its organisation's status
        ["SELECT", "'user_principal_name'"],  # one probe per unique field, as one query
        # Who verified the addresses' domains, and whether the organisation verified any (one
        # query for both addresses; the organisation's policy is read only for an address
        # outside its verified domains).
        ["SELECT", "email_domains.domain,"],
        ["INSERT", "INTO"],  # the account
        ["INSERT", "INTO"],  # its audit event, waiting for the sealer
        # The organisation's webhook endpoints (none subscribe: no delivery is written), read
        # once per transaction (webhooks/events.py).
        ["SELECT", "webhook_endpoints.id,"],
        # The sealer (audit/sealing.py): on SQLite before the commit, in the same transaction
        # (the writer holds the database's write lock anyway); on PostgreSQL in its own, after.
        ["SELECT", "audit_chain_heads.seq,"],  # the chain head, locked
        ["DELETE", "FROM"],  # the waiting event, taken
        ["INSERT", "INTO"],  # into the chain
        ["UPDATE", "audit_chain_heads"],
    ], "\n".join(seen)


def test_a_filtered_get_reads_the_token_and_one_page(client, runtime, org_a, org_b, scim_a, scim_b):
    create_user(client, scim_a, "found@example.com")
    url = f"{SCIM}/Users?filter=" + quote('userName eq "found@example.com"')
    with statements(runtime) as seen:
        found = client.get(url, headers=scim_a)
    assert found.json["totalResults"] == 1
    assert len(seen) == 2, "\n".join(seen)
    assert "FROM scim_tokens" in seen[0] and "FROM accounts" in seen[1]
    # Another organisation's token finds nothing, with as few statements (after its first
    # use, which notes last_used_at once a minute at most).
    client.get(f"{SCIM}/Users?count=0", headers=scim_b)
    with statements(runtime) as seen:
        other = client.get(url, headers=scim_b)
    assert other.json["totalResults"] == 0
    assert len(seen) == 2, "\n".join(seen)


@contextmanager
def transactions(runtime) -> Iterator[list[str]]:
    """The transactions' starts and tenant settings on PostgreSQL (one statement each)."""
    seen: list[str] = []

    def begin(_conn) -> None:
        seen.append("BEGIN")

    def note(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        if "set_config(" in statement or statement.upper().startswith("SET "):
            seen.append(" ".join(statement.split()))

    engine = runtime.database.engine
    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
        event.remove(engine, "begin", begin)


@pytest.mark.postgres_only
def test_a_filtered_get_is_one_transaction_with_one_tenant_setting(
    client, runtime, org_a, org_b, scim_a
):
    create_user(client, scim_a, "found@example.com")
    url = f"{SCIM}/Users?filter=" + quote('userName eq "found@example.com"')
    with transactions(runtime) as seen:
        found = client.get(url, headers=scim_a)
    assert found.json["totalResults"] == 1
    # The token is read in the request's transaction, by the statement that gives it its
    # settings (db/tenancy.py), and the edge then binds the same organisation: no other setting.
    assert seen[0] == "BEGIN" and len(seen) == 2, seen
    assert "app.organisation_id" in seen[1] and "FROM scim_tokens" in seen[1], seen


@pytest.mark.postgres_only
def test_a_scim_create_is_the_change_and_the_seal_each_with_its_settings_in_one_statement(
    client, runtime, org_a, org_b, scim_a
):
    create_user(client, scim_a, "first@example.com")  # the token's first use is noted once
    with transactions(runtime) as seen:
        created = client.post(f"{SCIM}/Users", json=new_user("second@example.com"), headers=scim_a)
    assert created.status_code == 201
    assert [s.split(" ", 1)[0] for s in seen] == ["BEGIN", "SELECT", "BEGIN", "SELECT"], seen
    # The change reads its token in its own transaction, with its settings; the seal that
    # follows commits without waiting for the disk, said in the statement that locks the
    # chain head and gives the tenant settings rather than in one of its own.
    assert "FROM scim_tokens" in seen[1] and "synchronous_commit" not in seen[1], seen
    assert "FROM audit_chain_heads" in seen[3] and "FOR UPDATE" in seen[3], seen
    assert "app.organisation_id" in seen[3] and "'synchronous_commit', 'off'" in seen[3], seen
