"""Tenancy in the ORM: every tenant-owned row belongs to one organisation, every session serves one.

Reads get ``with_loader_criteria`` for the session's organisation and fail closed when none is
set; flushes stamp and check ``organisation_id``. Cross-organisation work must say so through
:func:`cross_organisation_session` (grep for it) and should open one session per organisation.
On PostgreSQL, row-level security (``db/rls.py``) is a second wall under this one.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    ForeignKey,
    Row,
    Select,
    String,
    bindparam,
    event,
    func,
    inspect,
    literal_column,
    select,
    true,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql import ClauseElement, ColumnElement
from sqlalchemy.sql.util import find_tables

from .bulk import insert_rows
from .compiled import run_select

ORGANISATION_KEY = "organisation_id"
CROSS_ORGANISATION_KEY = "cross_organisation_reason"


class TenancyViolation(RuntimeError):
    """Code tried to touch tenant data without an organisation, or another organisation's rows."""


class TenantScoped:
    """Mixin for tenant-owned models: ``organisation_id`` leads the primary key and every index."""

    @declared_attr
    def organisation_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(
            ForeignKey("organisations.id", ondelete="RESTRICT"), primary_key=True, sort_order=-100
        )


# Models that are shared by all organisations, each with the reason it is not tenant-scoped.
# tests/tenancy/test_model_registry.py fails for any model that is in neither category.
GLOBAL_MODELS: dict[str, str] = {
    "Organisation": "the tenant itself",
    "Federation": "resolves a token's tenant id to its organisation before any organisation is "
    "known; a tenant id belongs to at most one organisation (Citus reference table)",
    "EmailDomain": "a domain belongs to at most one organisation, checked across all of them",
    "IdempotencyRecord": "keyed by the calling principal (tid, oid), which is itself bound to "
    "one organisation; read only by the idempotency layer for that same principal",
    "Product": "the catalogue is the same for every organisation (Citus reference table); "
    "which accounts may use a product is the tenant-scoped Entitlement",
    "PrivacyStatementVersion": "Facito's privacy statement is one document for every "
    "organisation, the default policy that contracts override (Citus reference table)",
    "PrivacyStatementChange": "a change-log entry of a (global) privacy statement version",
    "FacitoAuditEvent": "Facito's own audit chain: staff actions that concern no single "
    "organisation (publishing a privacy statement); never read in an organisation's session",
    "FacitoAuditChainHead": "the head of Facito's own audit chain (one row)",
    "OffboardingCertificate": "Facito's record that an offboarded organisation's data was "
    "deleted: it outlives that data, and operators and the DPO list it across organisations",
    "FacitoSubjectRequest": "Facito's DPO queue: requests of personal accounts (no organisation) "
    "and the Facito-controlled part of an organisation user's request; read only by Facito's "
    "DPO and support, never in an organisation's session",
    "SupportAccessRequest": "staff read their own requests outside any organisation, and the "
    "edge reads the grant in force before a session serves the organisation; every read in an "
    "organisation's name filters on organisation_id (support_access/service.py)",
    "Incident": "a security incident at Facito, recorded by its DPO or operators; an "
    "organisation reads one only through its own IncidentNotice (incidents/notices.py)",
    "IncidentUpdate": "an update of a (global) incident, read by an organisation only through "
    "its own IncidentNotice",
    "ScheduleLease": "which job consumer of the deployment runs the periodic schedule; it "
    "names no organisation",
    "IncidentOrganisation": "Facito's list of whom an incident affects; an organisation's "
    "session reads only its own row, by the session's organisation (incidents/notices.py)",
}


def session_organisation(session: Session) -> uuid.UUID | None:
    """The organisation a session serves, if any."""
    value = session.info.get(ORGANISATION_KEY)
    return value if isinstance(value, uuid.UUID) else None


def require_organisation(session: Session) -> uuid.UUID:
    """The session's organisation, or TenancyViolation (fail closed)."""
    organisation_id = session_organisation(session)
    if organisation_id is None:
        raise TenancyViolation("this session serves no organisation")
    return organisation_id


def is_cross_organisation(session: Session) -> bool:
    return bool(session.info.get(CROSS_ORGANISATION_KEY))


def _tenant_tables() -> set[Any]:
    tables: set[Any] = set()
    pending = list(TenantScoped.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if getattr(cls, "__table__", None) is not None:
            tables.add(cls.__table__)  # type: ignore[attr-defined]
    return tables


def _touches_tenant_tables(state: ORMExecuteState) -> bool:
    # Fast path: the statement's leading entity is tenant-scoped (most queries). A yes is
    # always safe here (it only makes the guard apply); all_mappers compiles the statement's
    # column descriptions and costs more than the query on hot lists (bench/list_accounts.py).
    subject = state.statement._propagate_attrs.get("plugin_subject")
    if subject is not None and issubclass(getattr(subject, "class_", object), TenantScoped):
        return True
    if any(issubclass(m.class_, TenantScoped) for m in state.all_mappers):
        return True
    return _names_tenant_tables(cast(ClauseElement, state.statement))


@functools.lru_cache(maxsize=256)
def _names_tenant_tables(statement: ClauseElement) -> bool:
    # all_mappers names only the selected entities: a tenant table can also hide in
    # select_from(), a subquery, EXISTS, or a Core statement. Remembered per statement object,
    # so a global read built once (tenants/lookups.py) is walked once, not on every request.
    found = find_tables(statement, check_columns=True, include_crud=True)
    return not _tenant_tables().isdisjoint(found)


def _written_organisations(state: ORMExecuteState) -> list[Any]:
    """organisation_id values an INSERT or UPDATE statement writes (VALUES/SET or bulk rows)."""
    statement: Any = state.statement
    mappings: list[Any] = [getattr(statement, "_values", None) or {}]
    mappings += [row for rows in getattr(statement, "_multi_values", ()) for row in rows]
    parameters = state.parameters
    mappings += parameters if isinstance(parameters, list) else [parameters or {}]
    written = []
    for mapping in mappings:
        if not isinstance(mapping, dict):
            written.append(mapping)  # positional rows: cannot tell, so refuse below
            continue
        for key, value in mapping.items():
            if getattr(key, "key", key) == ORGANISATION_KEY:
                written.append(getattr(value, "value", value))
    return written


@event.listens_for(Session, "do_orm_execute")
def _scope_statement_to_organisation(state: ORMExecuteState) -> None:
    if state.is_column_load or is_cross_organisation(state.session):
        return
    if not _touches_tenant_tables(state):
        return
    organisation_id = session_organisation(state.session)
    if organisation_id is None:
        raise TenancyViolation(
            "tenant-scoped query in a session without organisation; "
            "bind one or use cross_organisation_session()"
        )
    if not state.is_orm_statement:
        # with_loader_criteria filters ORM entities only; a Core statement would run unfiltered.
        raise TenancyViolation("query tenant tables through their models, not Core tables")
    if state.execution_options.get("dml_strategy") == "core_only":
        # Core-only DML skips the ORM's criteria, so the organisation filter would not apply.
        raise TenancyViolation("dml_strategy='core_only' bypasses the organisation filter")
    if (state.is_insert or state.is_update) and any(
        value != organisation_id for value in _written_organisations(state)
    ):
        raise TenancyViolation("a statement writes rows of another organisation")
    if state.is_select or state.is_update or state.is_delete:
        state.statement = _scoped(state.statement, organisation_id)


def _with_organisation_criteria(statement: Any, organisation_id: uuid.UUID) -> Any:
    return statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.organisation_id == organisation_id,
            include_aliases=True,
        )
    )


# Statements built once and executed many times (hot lists cache theirs, e.g. accounts/
# listing.py) carry this execution option; their scoped form is kept per organisation, so that
# the criteria and SQLAlchemy's cache key of the result are built once rather than on every
# request. The key holds the organisation: a scoped statement only ever serves its own.
REUSED_STATEMENT = "facito_reused_statement"
_SCOPED_MAX = 2048
_scoped_statements: OrderedDict[tuple[Any, uuid.UUID], Any] = OrderedDict()
_scoped_lock = threading.Lock()


def _scoped(statement: Any, organisation_id: uuid.UUID) -> Any:
    if not statement.get_execution_options().get(REUSED_STATEMENT):
        return _with_organisation_criteria(statement, organisation_id)
    key = (statement, organisation_id)
    scoped = _scoped_statements.get(key)
    if scoped is None:
        scoped = _with_organisation_criteria(statement, organisation_id)
        with _scoped_lock:
            _scoped_statements[key] = scoped
            while len(_scoped_statements) > _SCOPED_MAX:
                _scoped_statements.popitem(last=False)
    return scoped


# scoped_rows' criteria compare organisation_id with this parameter, which it alone supplies
# (the session's organisation): one scoped form per statement serves every organisation.
SCOPED_ORGANISATION_PARAMETER = "tenancy_organisation_id"  # also written in the lambda below
_by_parameter: dict[tuple[Any, bool], Any] = {}


def _scoped_by_parameter(statement: Any, *, setting_tenant: bool = False) -> Any:
    """``statement`` with the organisation criteria of the guard, the organisation a parameter;
    ``setting_tenant``: also giving the transaction its organisation (_TENANT_GATE).

    Rather than a value captured from a lambda's closure: SQLAlchemy extracts such a value from
    every execution's cache key and matches it to the compiled statement's parameters, which
    costs more than running the list's query (bench/list_accounts.py, --profile: 3 building of
    `==` expressions per request in construct_params).
    """
    key = (statement, setting_tenant)
    scoped = _by_parameter.get(key)
    if scoped is None:
        scoped = statement.options(
            with_loader_criteria(
                TenantScoped,
                # A literal name: SQLAlchemy would track a variable as a value of the lambda.
                lambda cls: cls.organisation_id == bindparam("tenancy_organisation_id"),
                include_aliases=True,
            )
        )
        if setting_tenant:
            scoped = scoped.where(_TENANT_GATE)
        if statement.get_execution_options().get(REUSED_STATEMENT):
            with _scoped_lock:
                _by_parameter[key] = scoped
                while len(_by_parameter) > _SCOPED_MAX:
                    del _by_parameter[next(iter(_by_parameter))]
    return scoped


# --- The organisation of a PostgreSQL transaction ------------------------------------------
# Row-level security (db/rls.py) reads two transaction-local settings, app.organisation_id
# and app.cross_organisation. db/session.py gives them to every transaction of a session in
# its first statement, or leaves them to scoped_rows when that begins the transaction: the
# first statement of a request is mostly one of its reads (the SCIM token check, the account
# list), and the settings then travel with it, one round trip and statement less per request
# (bench/scim.py, issue 13).
# What the transaction was given (organisation, cross): binding the organisation it already
# has costs nothing (db/session.py: bind_organisation).
DATABASE_TENANT_KEY = "database_tenant"
# Set while scoped_rows begins a transaction whose settings its statement will give.
TENANT_IN_FIRST_STATEMENT = "tenant_in_first_statement"
_TENANT_SETTING = "tenancy_setting"
# A condition without columns whose subquery sets the tenant: PostgreSQL evaluates such a
# condition once, as the "One-Time Filter" of a Result node above the statement's scans and
# joins, so the settings are in place before any row-level security policy is read. Were it
# ever evaluated later, the policies would have read no organisation and the rows would be
# missing (fail closed), never another organisation's: the statement's own criteria name it
# too. Checked by tests/tenancy/test_rls.py.
_TENANT_GATE: ColumnElement[bool] = (
    select(
        func.set_config(
            literal_column("'app.organisation_id'"),
            bindparam(_TENANT_SETTING, type_=String()),
            true(),
        ).op("||")(
            func.set_config(
                literal_column("'app.cross_organisation'"), literal_column("'off'"), true()
            )
        )
    )
    .scalar_subquery()
    .is_not(None)
)


def database_tenant(session: Session) -> tuple[str, str]:
    """The settings the session's transactions are given: (organisation or "", "on"/"off")."""
    organisation_id = session.info.get(ORGANISATION_KEY)
    cross = "on" if session.info.get(CROSS_ORGANISATION_KEY) else "off"
    return (str(organisation_id) if organisation_id else "", cross)


def _begin_leaving_tenant_to_statement(session: Session) -> Connection | None:
    """Begin the session's transaction without its tenant settings, for the first statement
    to give them (PostgreSQL, a session of one organisation); None if it cannot."""
    if (
        session.in_transaction()
        or is_cross_organisation(session)
        or session.get_bind().dialect.name != "postgresql"
    ):
        return None
    session.info[TENANT_IN_FIRST_STATEMENT] = True
    try:
        connection = session.connection()
    finally:
        session.info.pop(TENANT_IN_FIRST_STATEMENT, None)
    # Given already (db/session.py), the statement need not give them.
    return None if DATABASE_TENANT_KEY in session.info else connection


def scoped_rows(
    session: Session, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Rows of an ORM select of columns for the session's organisation, without ORM loading.

    For hot reads that only need column values (accounts/listing.py, the SCIM token check).
    The statement gets what the guard above gives every ORM query (refused without an
    organisation or when it is not an ORM statement; the organisation criteria added, here
    with the organisation as a parameter only this function supplies) and runs on the
    session's connection, in its transaction (on PostgreSQL with row-level security set for
    the organisation), but skips the Session's execution and result loading, a tenth of a
    list request (bench/list_accounts.py). Pending changes are flushed first, as the session
    would. A statement built once (REUSED_STATEMENT) runs from its compiled form
    (db/compiled.py) and, when it begins a PostgreSQL transaction, gives it its settings.
    """
    organisation_id = require_organisation(session)
    if not statement.is_select or statement._propagate_attrs.get("compile_state_plugin") != "orm":
        raise TenancyViolation("scoped_rows runs ORM selects of models only")
    if SCOPED_ORGANISATION_PARAMETER in params:
        raise TenancyViolation("the organisation of scoped_rows is the session's, never a caller's")
    if session.new or session.dirty or session.deleted:
        session.flush()
    values = {**params, SCOPED_ORGANISATION_PARAMETER: organisation_id}
    if not statement.get_execution_options().get(REUSED_STATEMENT):
        return session.connection().execute(_scoped_by_parameter(statement), values).all()
    # A UNION has no WHERE of its own to give the settings in.
    connection = (
        _begin_leaving_tenant_to_statement(session) if isinstance(statement, Select) else None
    )
    if connection is None:
        return run_select(session.connection(), _scoped_by_parameter(statement), values)
    setting = _scoped_by_parameter(statement, setting_tenant=True)
    try:
        rows = run_select(connection, setting, {**values, _TENANT_SETTING: str(organisation_id)})
    except BaseException:
        # Nothing may run in a transaction without its settings: the next one gets them.
        session.rollback()
        raise
    session.info[DATABASE_TENANT_KEY] = database_tenant(session)
    return rows


@event.listens_for(Session, "before_flush")
def _check_writes_stay_in_organisation(session: Session, _ctx: Any, _instances: Any) -> None:
    organisation_id = session_organisation(session)
    cross = is_cross_organisation(session)
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.organisation_id is None:
            if organisation_id is None:
                raise TenancyViolation(f"new {type(obj).__name__} without organisation")
            obj.organisation_id = organisation_id
        elif organisation_id is not None and obj.organisation_id != organisation_id:
            raise TenancyViolation(f"new {type(obj).__name__} for another organisation")
        elif organisation_id is None and not cross:
            raise TenancyViolation(f"new {type(obj).__name__} in a session without organisation")
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        history = inspect(obj).attrs.organisation_id.history
        if history.has_changes() and history.deleted:
            raise TenancyViolation(f"{type(obj).__name__} cannot move between organisations")
        if organisation_id is not None and obj.organisation_id != organisation_id:
            raise TenancyViolation(f"{type(obj).__name__} of another organisation")


def scoped_write(
    session: Session,
    statement: Any,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> CursorResult[Any]:
    """scoped_rows for an ORM INSERT, UPDATE or DELETE of a tenant model: hot writes (the audit
    sealer's, an event's recording) without the Session's execution.

    The guard's rules hold: the session's organisation is required; an UPDATE or DELETE gets
    the organisation criteria (in its subqueries too) with the organisation as scoped_rows'
    parameter; every row an INSERT writes must carry the session's organisation. Nothing is
    synchronised with the session's loaded objects, and no do_orm_execute hook runs: tenant
    tables only (the tenant directory watches global ones, auth/tenants.py).
    """
    organisation_id = require_organisation(session)
    subject = statement._propagate_attrs.get("plugin_subject")
    if statement.is_select or not issubclass(getattr(subject, "class_", object), TenantScoped):
        raise TenancyViolation("scoped_write writes tenant models only")
    written = getattr(statement, "_values", None) or {}
    if statement.is_insert and (written or getattr(statement, "_multi_values", None)):
        raise TenancyViolation("scoped_write inserts the rows passed as parameters")
    rows = [params] if isinstance(params, Mapping) else list(params)
    moved = [getattr(key, "key", key) for key in written] + [k for row in rows for k in row]
    if statement.is_update and ORGANISATION_KEY in moved:
        raise TenancyViolation("an organisation's rows do not move to another")
    if any(SCOPED_ORGANISATION_PARAMETER in row for row in rows):
        raise TenancyViolation(
            "the organisation of scoped_write is the session's, never a caller's"
        )
    if session.new or session.dirty or session.deleted:
        session.flush()
    if statement.is_insert:
        if any(row.get(ORGANISATION_KEY) != organisation_id for row in rows):
            raise TenancyViolation("a statement writes rows of another organisation")
        if len(rows) > 1 and session.get_bind().dialect.name == "postgresql":
            # A batch (a sync page's audit events) as one statement, not one per row.
            same = {ORGANISATION_KEY: organisation_id}
            batch = insert_rows(subject.class_, rows, same=same)
            if batch is not None:
                return session.connection().execute(batch)
        return session.connection().execute(statement, rows)
    scoped = _scoped_by_parameter(statement)
    values = [{**row, SCOPED_ORGANISATION_PARAMETER: organisation_id} for row in rows]
    return session.connection().execute(scoped, values[0] if len(values) == 1 else values)
