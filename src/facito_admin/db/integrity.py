"""Which unique index or constraint a refused write broke, by name, on either database.

PostgreSQL names it (the driver's diagnostics); SQLite names the columns only ("UNIQUE
constraint failed: accounts.organisation_id, accounts.upn_key"), so they are looked up among
the unique indexes and constraints of the models' metadata. A model says which API field an
index guards with ``info={"field": …}`` on it (and the resource's name with
``__table__.info["resource"]``), so the web edge can name the field without knowing the model.
"""

from __future__ import annotations

import re

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from .base import Base

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")


def _named_by_columns(columns: list[str]) -> str | None:
    table_name = columns[0].split(".")[0]
    table = Base.metadata.tables.get(table_name)
    if table is None:
        return None
    wanted = [c.split(".", 1)[1] for c in columns]
    candidates: list[Index | UniqueConstraint] = [
        *(i for i in table.indexes if i.unique),
        *(c for c in table.constraints if isinstance(c, UniqueConstraint)),
    ]
    for item in candidates:
        if [c.name for c in item.columns] == wanted:
            return str(item.name)
    return None


def unique_field(error: IntegrityError) -> tuple[str, str] | None:
    """(resource, API field) of the unique index a write broke, when its model names them."""
    name = violated_unique(error)
    if name is None:
        return None
    for table in Base.metadata.tables.values():
        candidates: list[Index | UniqueConstraint] = [
            *table.indexes,
            *(c for c in table.constraints if isinstance(c, UniqueConstraint)),
        ]
        for item in candidates:
            if item.name == name and "field" in item.info:
                resource = str(table.info.get("resource", table.name))
                return resource, str(item.info["field"])
    return None


def violated_unique(error: IntegrityError) -> str | None:
    """The name of the unique index or constraint the write broke; None for other errors."""
    diag = getattr(error.orig, "diag", None)
    if diag is not None:
        # psycopg: 23505 is unique_violation; its diagnostics name the index or constraint.
        if getattr(error.orig, "sqlstate", None) != "23505":
            return None
        return getattr(diag, "constraint_name", None)
    match = _SQLITE_UNIQUE.search(str(error.orig))
    if match is None:
        return None
    columns = [c.strip() for c in match.group(1).split(",")]
    if not all("." in c for c in columns):
        return None  # "index 'name'" for expression indexes: none of ours are unique
    return _named_by_columns(columns)
