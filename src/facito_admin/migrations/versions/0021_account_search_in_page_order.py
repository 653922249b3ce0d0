"""account search on PostgreSQL: the organisation's entries only, in the list's page order

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 04:20:00.000000

Migration 0018's ``account_search_ids(pattern, max_rows)`` asked for up to 1,001 ids of any
order; the list then either read those from accounts or, when there were more, scanned the
organisation's accounts. Profiled at 100,000 accounts (bench/account_search.py), most of the
time went to three things:

- the trigram index covered every organisation: a term's bitmap held all organisations'
  entries, each rechecked on the heap and then dropped by the organisation filter, and for a
  common term the planner preferred a sequential scan of the whole table;
- two thirds of the terms people type match more than 1,000 accounts, so the index query
  counted to 1,001 (a few milliseconds) before the scan of accounts, whose LIKEs, under the
  forced row-level security, get the planner's default estimate (it may not read a
  non-leakproof operator's statistics there): a long term is thought rare, and the scan
  became a bitmap of the whole organisation and a sort (200 ms), not the walk in page order
  that stops after a page;
- a walk of accounts itself costs its wide rows and the policy's settings, row by row.

Here the index names candidates in the list's page order, from narrow rows:

- ``account_search`` gains ``name_key`` and an index (organisation_id, name_key, account_id);
  that index and the primary key (the id order) include the rest, so the entries can be
  walked in either sort order of the list from the index alone;
- the trigram index leads with organisation_id (btree_gin), so a search reads its
  organisation's entries only;
- ``account_search_ids(term, by_name, descending, after_name, after_id, max_rows, walk_rows,
  rare_rows)`` returns the first max_rows entries after the cursor, in page order, whose keys
  hold the term. It looks at the next walk_rows entries in page order first (a common term
  fills the page there), then at all the organisation's matches through the trigram index if
  there are at most rare_rows of them (sorted in memory), and otherwise walks on until it has
  max_rows. accounts/listing.py reads the page's accounts by those ids, with every filter of
  the list, and asks for more when its filters left the page short.

SQLite's FTS5 index is unchanged (its path met the goal): nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# As in migration 0018; the trigger functions below write name_key too.
_PG_DOCUMENT = "{0}.name_key || E'\\x1f' || coalesce({0}.email_key, '') || E'\\x1f' || {0}.upn_key"

# account_search_ids' walks are static SQL, so plpgsql keeps their plans (planning them each
# call cost as much as running them); one copy of the three steps for each order of the list,
# each walk following an index in page order. Without a cursor the first entry is the bound:
# below every uuid7 id, above it, or '' for names (none for names in descending order: that
# copy has no bound). The trigram lookup is planned each time with its values (EXECUTE): a
# generic plan takes the term for rare and the organisation for small, and reads all its
# entries through the primary key, where the owner's statistics of the term's trigrams lead
# a custom plan to the trigram index (or to the primary key for a common term, whose LIMIT
# then comes soon).
_NIL, _MAX = "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"
_ORDERS = {
    # condition: (entries after the cursor, order)
    "NOT by_name AND NOT descending": (
        f"s.account_id > coalesce(after_id, '{_NIL}')",
        "s.account_id",
    ),
    "NOT by_name": (
        f"s.account_id < coalesce(after_id, '{_MAX}')",
        "s.account_id DESC",
    ),
    "NOT descending": (
        f"(s.name_key, s.account_id) > (coalesce(after_name, ''), coalesce(after_id, '{_NIL}'))",
        "s.name_key, s.account_id",
    ),
    "after_id IS NOT NULL": (
        "(s.name_key, s.account_id) < (after_name, after_id)",
        "s.name_key DESC, s.account_id DESC",
    ),
    "true": ("true", "s.name_key DESC, s.account_id DESC"),
}
_STEPS = """
        -- 1. The matches among the next walk_rows entries in page order, up to max_rows: a
        --    common term fills the page here (index-only: the index holds the document).
        SELECT count(*), array_agg(h.account_id), array_agg(h.name_key) INTO found, ids, names
        FROM (SELECT w.account_id, w.name_key FROM (
                SELECT s.account_id, s.name_key, s.document FROM account_search s
                WHERE s.organisation_id = org AND {later} ORDER BY {keys} LIMIT walk_rows) w
              WHERE strpos(w.document, term) > 0 LIMIT max_rows) h;
        IF found < max_rows THEN
            -- 2. All the organisation's matches if they are few (the trigram index; the
            --    caller passes rare_rows 0 for a term of which pg_trgm makes no trigram)...
            found := rare_rows + 1;
            IF rare_rows > 0 THEN
                EXECUTE _lookup INTO found, ids, names USING org, pattern, rare_rows;
            END IF;
            IF found > rare_rows THEN
                -- 3. ...else on in page order until max_rows (they are thinly spread).
                RETURN QUERY SELECT s.account_id, s.name_key FROM account_search s
                    WHERE s.organisation_id = org AND {later} AND strpos(s.document, term) > 0
                    ORDER BY {keys} LIMIT max_rows;
                RETURN;
            END IF;
        END IF;
        RETURN QUERY SELECT s.account_id, s.name_key
            FROM unnest(ids, names) AS s(account_id, name_key)
            WHERE {later} ORDER BY {keys} LIMIT max_rows;"""
_BRANCHES = "\n    ELSIF ".join(
    f"{condition} THEN{_STEPS.format(later=later, keys=keys)}"
    for condition, (later, keys) in _ORDERS.items()
)
# No plan of this function wants a sequential scan of every organisation's entries.
IDS_FUNCTION = rf"""
CREATE FUNCTION account_search_ids(
    term text, by_name boolean, descending boolean, after_name text, after_id uuid,
    max_rows integer, walk_rows integer, rare_rows integer
) RETURNS TABLE (account_id uuid, name_key text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp SET enable_seqscan = off
AS $$
DECLARE
    org uuid := NULLIF(current_setting('app.organisation_id', true), '')::uuid;
    pattern text := '%' || replace(replace(replace(term, '\', '\\'), '%', '\%'), '_', '\_')
        || '%';
    found integer;
    ids uuid[];
    names text[];
    _lookup constant text := 'SELECT count(*), array_agg(m.account_id), array_agg(m.name_key)'
        ' FROM (SELECT s.account_id, s.name_key FROM account_search s'
        ' WHERE s.organisation_id = $1 AND s.document LIKE $2 LIMIT $3 + 1) m';
BEGIN
    IF org IS NULL THEN
        RETURN;
    END IF;
    IF {_BRANCHES}
    END IF;
END
$$
"""  # noqa: S608 - constants, no input

# Migration 0018's function, for the downgrade.
_OLD_IDS_FUNCTION = """
CREATE FUNCTION account_search_ids(pattern text, max_rows integer) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT account_id FROM account_search'
        ' WHERE organisation_id = $1 AND document LIKE $2 LIMIT $3'
        USING NULLIF(current_setting('app.organisation_id', true), '')::uuid,
            pattern, max_rows;
END
$$
"""


def _trigger_functions(with_name: bool) -> None:
    name_column = ", name_key" if with_name else ""
    name_value = ", n.name_key" if with_name else ""
    name_update = ", name_key = EXCLUDED.name_key" if with_name else ""
    name_set = ", name_key = NEW.name_key" if with_name else ""
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION account_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO account_search (organisation_id, account_id, document{name_column})
            SELECT n.organisation_id, n.id, {_PG_DOCUMENT.format("n")}{name_value}
            FROM new_accounts n
            ON CONFLICT (organisation_id, account_id)
            DO UPDATE SET document = EXCLUDED.document{name_update};
            RETURN NULL;
        END
        $$
        """,  # noqa: S608 - constants, no input
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION account_search_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE account_search SET document = {_PG_DOCUMENT.format("NEW")}{name_set}
            WHERE organisation_id = NEW.organisation_id AND account_id = NEW.id;
            RETURN NULL;
        END
        $$
        """,  # noqa: S608 - constants, no input
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Trusted since PostgreSQL 13, as pg_trgm: the database owner creates it.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute("ALTER TABLE account_search ADD COLUMN name_key text")
    _trigger_functions(with_name=True)
    op.execute("SELECT set_config('app.cross_organisation', 'on', true)")
    op.execute(
        "UPDATE account_search s SET name_key = a.name_key FROM accounts a"
        " WHERE a.organisation_id = s.organisation_id AND a.id = s.account_id"
    )
    op.execute("SELECT set_config('app.cross_organisation', 'off', true)")
    op.execute("ALTER TABLE account_search ALTER COLUMN name_key SET NOT NULL")
    # Both orders of the list, each index holding the document, so that a walk reads no table
    # page (once vacuumed: the visibility map).
    op.execute(
        "CREATE INDEX ix_account_search_org_name ON account_search"
        " (organisation_id, name_key, account_id) INCLUDE (document)"
    )
    op.execute(
        "ALTER TABLE account_search DROP CONSTRAINT pk_account_search,"
        " ADD CONSTRAINT pk_account_search PRIMARY KEY (organisation_id, account_id)"
        " INCLUDE (name_key, document)"
    )
    op.execute("DROP INDEX ix_account_search_document")
    op.execute(
        "CREATE INDEX ix_account_search_org_document ON account_search"
        " USING gin (organisation_id, document gin_trgm_ops)"
    )
    op.execute("DROP FUNCTION account_search_ids(text, integer)")
    op.execute(IDS_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP FUNCTION account_search_ids(text, boolean, boolean, text, uuid, integer, integer,"
        " integer)"
    )
    op.execute(_OLD_IDS_FUNCTION)
    op.execute("DROP INDEX ix_account_search_org_document")
    op.execute(
        "CREATE INDEX ix_account_search_document ON account_search"
        " USING gin (document gin_trgm_ops)"
    )
    op.execute("DROP INDEX ix_account_search_org_name")
    op.execute(
        "ALTER TABLE account_search DROP CONSTRAINT pk_account_search,"
        " ADD CONSTRAINT pk_account_search PRIMARY KEY (organisation_id, account_id)"
    )
    _trigger_functions(with_name=False)
    op.execute("ALTER TABLE account_search DROP COLUMN name_key")
    op.execute("DROP EXTENSION IF EXISTS btree_gin")
