"""account search index: trigrams of the search keys (pg_trgm on PostgreSQL, FTS5 on SQLite)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 10:12:41.512934

The account list's `q` matches a substring of name_key, email_key or upn_key
(accounts/listing.py). Both databases get a trigram index of those keys in a table of its own,
kept in step with accounts by triggers; neither table is a model (db/migrations.py:
SEARCH_INDEX_TABLES keeps autogenerate off them) and both lose an account's row with the
account, so deleting accounts (offboarding, purges) erases them.

- PostgreSQL: ``account_search`` (organisation, account, the three keys joined by U+001F) with
  a GIN ``gin_trgm_ops`` index. Not an index on accounts itself: accounts forces row-level
  security, and the planner does not use an index for a LIKE (not leakproof) under a policy.
  The app role reads it only through ``account_search_ids(pattern, max_rows)``, SECURITY DEFINER, which
  returns the ids of the session's organisation (app.organisation_id) alone; its own policy
  (enabled, not forced: the owner's function is not subject to it) keeps any direct read to
  the session's organisation as on every tenant table.
- SQLite: the FTS5 table ``account_search`` (trigram tokenizer) whose rowid is the account's
  rowid. A later migration that rebuilds accounts on SQLite (batch mode "recreate") drops these
  triggers and renumbers rowids: it must run :func:`sqlite_create` again
  (tests/api/accounts/test_account_search.py checks the index at head).
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The document PostgreSQL indexes; U+001F cannot occur in a search term (`q` refuses control
# characters), so a term never matches across two keys.
_PG_DOCUMENT = "{0}.name_key || E'\\x1f' || coalesce({0}.email_key, '') || E'\\x1f' || {0}.upn_key"
_POLICY_PREDICATE = (
    "current_setting('app.cross_organisation', true) = 'on' OR "
    "organisation_id = NULLIF(current_setting('app.organisation_id', true), '')::uuid"
)


def postgresql_create() -> None:
    # A trusted extension since PostgreSQL 13: the database owner creates it, no superuser.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE TABLE account_search ("
        " organisation_id uuid NOT NULL,"
        " account_id uuid NOT NULL,"
        " document text NOT NULL,"
        " CONSTRAINT pk_account_search PRIMARY KEY (organisation_id, account_id))"
    )
    op.execute(
        "CREATE INDEX ix_account_search_document ON account_search"
        " USING gin (document gin_trgm_ops)"
    )
    # Enabled, not forced: the owner (the function below) reads across the policy, the app
    # role never does.
    op.execute("ALTER TABLE account_search ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON account_search"
        f" USING ({_POLICY_PREDICATE}) WITH CHECK ({_POLICY_PREDICATE})"
    )
    # At most max_rows of them (the caller wants to know whether there are few). EXECUTE plans
    # each call with the values, so the planner weighs the trigram index against the
    # organisation's rows in key order with real estimates.
    op.execute(
        """
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
    )
    # Inserts and deletes a statement at a time (bulk loads and directory syncs write many
    # rows per statement); updates a row at a time, only when a key changed (transition tables
    # cannot be limited to columns).
    op.execute(
        f"""
        CREATE FUNCTION account_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO account_search (organisation_id, account_id, document)
            SELECT n.organisation_id, n.id, {_PG_DOCUMENT.format("n")} FROM new_accounts n
            ON CONFLICT (organisation_id, account_id) DO UPDATE SET document = EXCLUDED.document;
            RETURN NULL;
        END
        $$
        """,  # noqa: S608 - constants, no input
    )
    op.execute(
        f"""
        CREATE FUNCTION account_search_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE account_search SET document = {_PG_DOCUMENT.format("NEW")}
            WHERE organisation_id = NEW.organisation_id AND account_id = NEW.id;
            RETURN NULL;
        END
        $$
        """,  # noqa: S608 - constants, no input
    )
    op.execute(
        """
        CREATE FUNCTION account_search_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM account_search s USING old_accounts o
            WHERE s.organisation_id = o.organisation_id AND s.account_id = o.id;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER account_search_insert AFTER INSERT ON accounts"
        " REFERENCING NEW TABLE AS new_accounts"
        " FOR EACH STATEMENT EXECUTE FUNCTION account_search_inserted()"
    )
    op.execute(
        "CREATE TRIGGER account_search_update AFTER UPDATE OF name_key, email_key, upn_key"
        " ON accounts FOR EACH ROW WHEN ("
        " OLD.name_key IS DISTINCT FROM NEW.name_key"
        " OR OLD.email_key IS DISTINCT FROM NEW.email_key"
        " OR OLD.upn_key IS DISTINCT FROM NEW.upn_key)"
        " EXECUTE FUNCTION account_search_updated()"
    )
    op.execute(
        "CREATE TRIGGER account_search_delete AFTER DELETE ON accounts"
        " REFERENCING OLD TABLE AS old_accounts"
        " FOR EACH STATEMENT EXECUTE FUNCTION account_search_deleted()"
    )
    # The accounts there are: the owner is under accounts' forced policy too, so it says it
    # works across organisations, for this transaction's backfill only.
    op.execute("SELECT set_config('app.cross_organisation', 'on', true)")
    op.execute(
        "INSERT INTO account_search (organisation_id, account_id, document)"  # noqa: S608 - constants, no input
        f" SELECT a.organisation_id, a.id, {_PG_DOCUMENT.format('a')} FROM accounts a"
    )
    op.execute("SELECT set_config('app.cross_organisation', 'off', true)")


def postgresql_drop() -> None:
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS account_search_{trigger} ON accounts")
    for function in ("inserted()", "updated()", "deleted()", "ids(text, integer)"):
        op.execute(f"DROP FUNCTION IF EXISTS account_search_{function}")
    op.execute("DROP TABLE IF EXISTS account_search")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")


_SQLITE_VALUES = "(new.rowid, new.name_key, new.email_key, new.upn_key)"


def sqlite_create() -> None:
    """The FTS5 index, its triggers and its rows (again, after accounts is rebuilt)."""
    sqlite_drop()
    op.execute(
        "CREATE VIRTUAL TABLE account_search"
        " USING fts5(name_key, email_key, upn_key, tokenize = 'trigram')"
    )
    columns = "account_search (rowid, name_key, email_key, upn_key)"
    op.execute(
        "CREATE TRIGGER account_search_insert AFTER INSERT ON accounts BEGIN"  # noqa: S608 - constants, no input
        f" INSERT INTO {columns} VALUES {_SQLITE_VALUES}; END"
    )
    op.execute(
        "CREATE TRIGGER account_search_update AFTER UPDATE OF name_key, email_key, upn_key"  # noqa: S608 - constants, no input
        " ON accounts WHEN old.name_key IS NOT new.name_key"
        " OR old.email_key IS NOT new.email_key OR old.upn_key IS NOT new.upn_key BEGIN"
        " DELETE FROM account_search WHERE rowid = old.rowid;"
        f" INSERT INTO {columns} VALUES {_SQLITE_VALUES}; END"
    )
    op.execute(
        "CREATE TRIGGER account_search_delete AFTER DELETE ON accounts BEGIN"
        " DELETE FROM account_search WHERE rowid = old.rowid; END"
    )
    op.execute(f"INSERT INTO {columns} SELECT rowid, name_key, email_key, upn_key FROM accounts")  # noqa: S608 - constants, no input


def sqlite_drop() -> None:
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS account_search_{trigger}")
    op.execute("DROP TABLE IF EXISTS account_search")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        postgresql_create()
    else:
        sqlite_create()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        postgresql_drop()
    else:
        sqlite_drop()
