"""Every model is either tenant-scoped (and shaped for it) or global on purpose, with a reason."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Index, Table, UniqueConstraint
from sqlalchemy.orm import Mapper

from facito_admin.db.base import Base
from facito_admin.db.tenancy import GLOBAL_MODELS, ORGANISATION_KEY, TenantScoped
from facito_admin.domains import load_models


def _mappers() -> list[Mapper]:
    load_models()
    return sorted(Base.registry.mappers, key=lambda m: m.class_.__name__)


def _tenant_tables() -> list[Table]:
    return [
        m.local_table
        for m in _mappers()
        if issubclass(m.class_, TenantScoped) and isinstance(m.local_table, Table)
    ]


def _leading_column(columns: list[str]) -> str | None:
    return columns[0] if columns else None


def test_every_model_is_tenant_scoped_or_listed_as_global():
    unclassified = [
        m.class_.__name__
        for m in _mappers()
        if not issubclass(m.class_, TenantScoped) and m.class_.__name__ not in GLOBAL_MODELS
    ]
    assert not unclassified, (
        f"{unclassified}: add the TenantScoped mixin, or list the model in "
        "db.tenancy.GLOBAL_MODELS with the reason it is shared by all organisations"
    )


def test_no_model_is_both_tenant_scoped_and_global():
    both = [
        m.class_.__name__
        for m in _mappers()
        if issubclass(m.class_, TenantScoped) and m.class_.__name__ in GLOBAL_MODELS
    ]
    assert not both


def test_global_models_lists_only_models_that_exist_and_says_why():
    names = {m.class_.__name__ for m in _mappers()}
    assert not set(GLOBAL_MODELS) - names, "remove these from GLOBAL_MODELS: no such model"
    assert all(reason.strip() for reason in GLOBAL_MODELS.values())


def test_every_table_belongs_to_a_mapped_model():
    mapped = {m.local_table.name for m in _mappers()}
    assert {t.name for t in Base.metadata.sorted_tables} <= mapped


def test_organisation_id_leads_the_primary_key_of_every_tenant_table():
    wrong = {
        t.name: [c.name for c in t.primary_key.columns]
        for t in _tenant_tables()
        if _leading_column([c.name for c in t.primary_key.columns]) != ORGANISATION_KEY
    }
    assert not wrong
    for table in _tenant_tables():
        assert not table.c[ORGANISATION_KEY].nullable, table.name
        # Its own foreign key names the organisation; composite keys to other tenant rows
        # (manager → account) carry it too, pointing at that row's organisation_id.
        targets = {fk.target_fullname for fk in table.c[ORGANISATION_KEY].foreign_keys}
        assert "organisations.id" in targets, table.name
        assert all(
            t == "organisations.id" or t.endswith(f".{ORGANISATION_KEY}") for t in targets
        ), table.name


def test_organisation_id_leads_every_index_and_unique_constraint_of_tenant_tables():
    # Column-level unique=True / index=True land here too, as one-column constraints.
    wrong = []
    for table in _tenant_tables():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                columns = [c.name for c in constraint.columns]
                if _leading_column(columns) != ORGANISATION_KEY:
                    wrong.append(f"{table.name} unique {columns}")
        for index in table.indexes:
            assert isinstance(index, Index)
            columns = [getattr(e, "name", str(e)) for e in index.expressions]
            if _leading_column(columns) != ORGANISATION_KEY:
                wrong.append(f"{table.name} index {index.name} {columns}")
    assert not wrong


def test_foreign_keys_between_tenant_tables_carry_the_organisation():
    tenant_names = {t.name for t in _tenant_tables()}
    wrong = []
    for table in _tenant_tables():
        for fk in table.foreign_key_constraints:
            if fk.referred_table.name in tenant_names and (
                ORGANISATION_KEY not in [c.name for c in fk.columns]
            ):
                wrong.append(f"{table.name} -> {fk.referred_table.name}")
    # Citus-ready: rows of one organisation only ever point at rows of the same organisation.
    assert not wrong


def _global_tables() -> list[Table]:
    return [
        m.local_table
        for m in _mappers()
        if not issubclass(m.class_, TenantScoped) and isinstance(m.local_table, Table)
    ]


def test_no_global_table_points_at_a_tenant_table():
    # Citus: a reference table (copied to every node) cannot reference a distributed one.
    tenant_names = {t.name for t in _tenant_tables()}
    wrong = [
        f"{table.name} -> {fk.referred_table.name}"
        for table in _global_tables()
        for fk in table.foreign_key_constraints
        if fk.referred_table.name in tenant_names
    ]
    assert not wrong


def test_the_deployment_guide_names_every_global_table_as_a_reference_table():
    guide = (Path(__file__).resolve().parents[2] / "docs" / "deployment.md").read_text()
    citus = guide[guide.index("## Growing past one PostgreSQL: Citus") :]
    named = set(re.findall(r"\b[a-z][a-z_]+\b", citus))

    assert sorted(t.name for t in _global_tables() if t.name not in named) == []
