"""The ORM guard: a session serves one organisation, fails closed without one, and never writes
another organisation's rows. Audit events exist for both organisations from their onboarding."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import (
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)

from facito_admin.audit.models import AuditChainHead, AuditEvent
from facito_admin.db.base import new_id
from facito_admin.db.session import (
    bind_organisation,
    cross_organisation_session,
)
from facito_admin.db.tenancy import (
    REUSED_STATEMENT,
    SCOPED_ORGANISATION_PARAMETER,
    TenancyViolation,
    scoped_rows,
    scoped_write,
)
from facito_admin.runtime import Runtime
from facito_admin.tenants.models import Organisation
from tests.conftest import Org


def _event_row(organisation_id: uuid.UUID | None) -> dict[str, object]:
    return {
        "organisation_id": organisation_id,
        "id": new_id(),
        "seq": 10_000,
        "actor_kind": "system",
        "actor_tid": "",
        "actor_oid": "",
        "actor_display": "test",
        "action": "test:event:write",
        "target_type": "test",
        "target_id": "test",
        "request_id": "test",
        "details": {},
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }


def _event(organisation_id: uuid.UUID | None) -> AuditEvent:
    return AuditEvent(**_event_row(organisation_id))


def _organisations_of_events(runtime: Runtime, organisation_id: uuid.UUID) -> set[uuid.UUID]:
    with runtime.session(organisation_id=organisation_id) as session:
        return set(session.scalars(select(AuditEvent.organisation_id)).all())


def test_a_session_without_organisation_cannot_query_tenant_tables(runtime: Runtime, org_a: Org):
    with runtime.session() as session:
        with pytest.raises(TenancyViolation):
            session.scalars(select(AuditEvent)).all()
        with pytest.raises(TenancyViolation):
            session.execute(select(func.count()).select_from(AuditChainHead)).scalar()
        with pytest.raises(TenancyViolation):
            session.get(AuditChainHead, org_a.id)
        with pytest.raises(TenancyViolation):
            session.execute(update(AuditEvent).values(outcome="tampered"))
        # The tenant table hides outside the selected entities: still refused.
        with pytest.raises(TenancyViolation):
            session.execute(select(func.count()).select_from(AuditEvent)).scalar()
        with pytest.raises(TenancyViolation):
            session.execute(select(func.count()).select_from(select(AuditEvent.id).subquery()))
        with pytest.raises(TenancyViolation):
            session.execute(select(func.count(AuditEvent.__table__.c.id))).scalar()


def test_a_session_without_organisation_still_reads_global_tables(runtime: Runtime, org_a: Org):
    with runtime.session() as session:
        assert session.get(Organisation, org_a.id) is not None


def test_a_session_of_one_organisation_sees_none_of_the_others_rows(
    runtime: Runtime, org_a: Org, org_b: Org
):
    assert _organisations_of_events(runtime, org_a.id) == {org_a.id}
    assert _organisations_of_events(runtime, org_b.id) == {org_b.id}
    with runtime.session(organisation_id=org_b.id) as session:
        event_of_b = session.scalars(select(AuditEvent)).first()
        assert event_of_b is not None
        key = (event_of_b.organisation_id, event_of_b.id)
    with runtime.session(organisation_id=org_a.id) as session:
        assert session.get(AuditEvent, key) is None
        assert session.get(AuditChainHead, org_b.id) is None
        assert session.scalars(select(AuditEvent).where(AuditEvent.id == key[1])).all() == []
        # Counts, subqueries and EXISTS are scoped too, not only the selected entity.
        assert session.execute(select(func.count()).select_from(AuditEvent)).scalar() == 1
        inner = select(AuditEvent.id).where(AuditEvent.id == key[1])
        assert session.execute(select(func.count()).select_from(inner.subquery())).scalar() == 0
        assert session.execute(select(exists(inner))).scalar() is False
        counted = session.execute(
            select(Organisation.id, func.count(AuditEvent.id))
            .join(AuditEvent, AuditEvent.organisation_id == Organisation.id)
            .group_by(Organisation.id)
        ).all()
        assert [row[0] for row in counted] == [org_a.id]


def test_core_statements_on_tenant_tables_are_refused(runtime: Runtime, org_a: Org):
    # with_loader_criteria cannot filter a Core table: such a statement would see everything.
    table = AuditEvent.__table__
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        with pytest.raises(TenancyViolation):
            session.execute(select(table.c.id)).all()
        with pytest.raises(TenancyViolation):
            session.execute(table.update().values(outcome="tampered"))
        session.rollback()


def test_core_only_dml_strategy_is_refused_because_it_skips_the_filter(
    runtime: Runtime, org_a: Org, org_b: Org
):
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        with pytest.raises(TenancyViolation, match="core_only"):
            session.execute(
                update(AuditEvent).values(outcome="tampered"),
                execution_options={"dml_strategy": "core_only"},
            )
        session.rollback()
    with cross_organisation_session(runtime, reason="test: read both back") as session:
        outcomes = set(session.scalars(select(AuditEvent.outcome)))
    assert outcomes == {"success"}


def test_bulk_updates_of_one_organisation_leave_the_other_alone(
    runtime: Runtime, org_a: Org, org_b: Org
):
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        session.execute(update(AuditEvent).values(outcome="changed"))
        session.commit()
    with cross_organisation_session(runtime, reason="test: read both back") as session:
        outcomes = {
            tuple(row)
            for row in session.execute(select(AuditEvent.organisation_id, AuditEvent.outcome))
        }
    assert outcomes == {(org_a.id, "changed"), (org_b.id, "success")}


def test_a_new_row_is_stamped_with_the_sessions_organisation(runtime: Runtime, org_a: Org):
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        event = _event(None)
        session.add(event)
        session.flush()
        assert event.organisation_id == org_a.id
        session.rollback()


def test_writing_a_row_of_another_organisation_raises(runtime: Runtime, org_a: Org, org_b: Org):
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        session.add(_event(org_b.id))
        with pytest.raises(TenancyViolation):
            session.flush()
        session.rollback()


def test_insert_and_update_statements_cannot_write_another_organisation(
    runtime: Runtime, org_a: Org, org_b: Org
):
    row_of_b = _event_row(org_b.id)
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        with pytest.raises(TenancyViolation):
            session.execute(insert(AuditEvent), [row_of_b])
        with pytest.raises(TenancyViolation):
            session.execute(insert(AuditEvent).values(**row_of_b))
        with pytest.raises(TenancyViolation):
            session.execute(update(AuditEvent).values(organisation_id=org_b.id))
        # Bulk UPDATE by primary key names the other organisation's row outright.
        with pytest.raises(TenancyViolation):
            session.execute(
                update(AuditEvent),
                [{"organisation_id": org_b.id, "id": row_of_b["id"], "outcome": "tampered"}],
            )
        session.rollback()


def test_writing_a_tenant_row_without_organisation_raises(runtime: Runtime, org_a: Org):
    with runtime.session(write=True) as session:
        session.add(_event(org_a.id))
        with pytest.raises(TenancyViolation):
            session.flush()
        session.rollback()
    with runtime.session(write=True) as session:
        session.add(_event(None))
        with pytest.raises(TenancyViolation):
            session.flush()
        session.rollback()


def test_moving_a_row_to_another_organisation_raises(runtime: Runtime, org_a: Org, org_b: Org):
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        event = session.scalars(select(AuditEvent)).first()
        assert event is not None
        event.organisation_id = org_b.id
        with pytest.raises(TenancyViolation):
            session.flush()
        session.rollback()
    with cross_organisation_session(runtime, reason="test: read both back") as session:
        outcomes = set(session.scalars(select(AuditEvent.outcome)))
    assert outcomes == {"success"}


def test_deleting_through_a_session_of_the_same_organisation_only(
    runtime: Runtime, org_a: Org, org_b: Org
):
    with runtime.session(organisation_id=org_b.id) as session:
        head_of_b = session.get(AuditChainHead, org_b.id)
        assert head_of_b is not None
        session.expunge(head_of_b)
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        # An object loaded elsewhere and brought in: the flush still refuses it.
        session.delete(session.merge(head_of_b, load=False))
        with pytest.raises(TenancyViolation):
            session.flush()
        session.rollback()


def test_a_session_serves_one_organisation_for_its_whole_life(
    runtime: Runtime, org_a: Org, org_b: Org
):
    with runtime.session(organisation_id=org_a.id) as session:
        bind_organisation(session, org_a.id)
        with pytest.raises(TenancyViolation):
            bind_organisation(session, org_b.id)


def test_a_cross_organisation_session_sees_both_and_needs_a_reason(
    runtime: Runtime, org_a: Org, org_b: Org
):
    with cross_organisation_session(runtime, reason="test: both organisations") as session:
        seen = set(session.scalars(select(AuditEvent.organisation_id)).all())
        heads = set(session.scalars(select(AuditChainHead.organisation_id)).all())
    assert seen == heads == {org_a.id, org_b.id}
    with pytest.raises(ValueError, match="why"), cross_organisation_session(runtime, reason=""):
        pass


def test_scoped_rows_see_only_the_sessions_organisation_without_a_filter_of_their_own(
    runtime: Runtime, org_a: Org, org_b: Org
):
    statement = select(AuditEvent.organisation_id, AuditEvent.action)
    reused = statement.execution_options(**{REUSED_STATEMENT: True})
    for organisation in (org_a, org_b, org_a):
        with runtime.session(organisation_id=organisation.id) as session:
            for candidate in (statement, reused):
                rows = scoped_rows(session, candidate, {})
                assert rows
                assert {row[0] for row in rows} == {organisation.id}


def test_scoped_rows_of_a_union_see_only_the_sessions_organisation_in_every_arm(
    runtime: Runtime, org_a: Org, org_b: Org
):
    # A UNION (the uniqueness probe of accounts/service.py) has no WHERE of its own: each arm
    # gets the organisation, whether the union begins the transaction or not.
    union = union_all(
        select(AuditEvent.organisation_id, literal_column("'event'").label("kind")),
        select(AuditChainHead.organisation_id, literal_column("'head'").label("kind")),
    ).execution_options(**{REUSED_STATEMENT: True})
    for organisation in (org_a, org_b):
        with runtime.session(organisation_id=organisation.id) as session:
            first = scoped_rows(session, union, {})
            again = scoped_rows(session, union, {})
        for rows in (first, again):
            assert {row.kind for row in rows} == {"event", "head"}
            assert {row.organisation_id for row in rows} == {organisation.id}


def test_scoped_rows_refuse_a_session_without_organisation_and_core_statements(
    runtime: Runtime, org_a: Org
):
    with runtime.session() as session, pytest.raises(TenancyViolation):
        scoped_rows(session, select(AuditEvent.id), {})
    with runtime.session(organisation_id=org_a.id) as session:
        with pytest.raises(TenancyViolation):
            scoped_rows(session, select(AuditEvent.__table__.c.id), {})
        with pytest.raises(TenancyViolation):
            scoped_rows(session, update(AuditEvent).values(outcome="x"), {})  # type: ignore[arg-type]


def test_scoped_rows_take_the_organisation_from_the_session_never_from_the_caller(
    runtime: Runtime, org_a: Org, org_b: Org
):
    statement = select(AuditEvent.organisation_id).execution_options(**{REUSED_STATEMENT: True})
    with runtime.session(organisation_id=org_a.id) as session, pytest.raises(TenancyViolation):
        scoped_rows(session, statement, {SCOPED_ORGANISATION_PARAMETER: org_b.id})


def test_scoped_writes_update_and_delete_only_the_sessions_organisation(
    runtime: Runtime, org_a: Org, org_b: Org
):
    def outcomes() -> dict[tuple[uuid.UUID, str], int]:
        with cross_organisation_session(runtime, reason="test: read both") as session:
            rows = session.execute(
                select(AuditEvent.organisation_id, AuditEvent.outcome, func.count()).group_by(
                    AuditEvent.organisation_id, AuditEvent.outcome
                )
            )
            return {(row[0], row[1]): row[2] for row in rows}

    before = outcomes()
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        rows = [_event_row(org_a.id), _event_row(org_a.id) | {"seq": 10_001}]
        scoped_write(session, insert(AuditEvent), rows)
        scoped_write(session, update(AuditEvent).values(outcome=bindparam("o")), {"o": "changed"})
        # The subquery is scoped too: the newest event it finds is the organisation's own.
        newest = select(AuditEvent.id).order_by(AuditEvent.seq.desc()).limit(1).scalar_subquery()
        scoped_write(session, delete(AuditEvent).where(AuditEvent.id.in_(newest)), {})
        session.commit()
    assert outcomes() == {
        (org_a.id, "changed"): before[(org_a.id, "success")] + 1,
        (org_b.id, "success"): before[(org_b.id, "success")],
    }


def test_scoped_writes_refuse_other_organisations_rows_core_and_global_tables(
    runtime: Runtime, org_a: Org, org_b: Org
):
    with runtime.session(organisation_id=org_a.id, write=True) as session:
        for statement, params in [
            (insert(AuditEvent), [_event_row(org_a.id), _event_row(org_b.id)]),
            (insert(AuditEvent), [_event_row(None)]),
            (insert(AuditEvent).values(**_event_row(org_a.id)), {}),
            (update(AuditEvent).values(organisation_id=org_b.id), {}),
            (update(AuditEvent).values(outcome=bindparam("o")), {"organisation_id": org_b.id}),
            (update(AuditEvent).values(outcome="x"), {SCOPED_ORGANISATION_PARAMETER: org_b.id}),
            (update(AuditEvent.__table__).values(outcome="x"), {}),
            (update(Organisation).values(name="x"), {}),
            (select(AuditEvent.id), {}),
        ]:
            with pytest.raises(TenancyViolation):
                scoped_write(session, statement, params)
        session.rollback()
    with runtime.session(write=True) as session, pytest.raises(TenancyViolation):
        scoped_write(session, insert(AuditEvent), [_event_row(org_a.id)])
