"""The statement of 8 March 2019 ships with every database and is in force from that day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from facito_admin.policies.models import StatementStatus
from facito_admin.policies.parameters import STATEMENT_2019_VALUES, validate_policy_values
from facito_admin.policies.statements.service import SEED_STATEMENT_ID, statement_in_force
from facito_admin.runtime import Runtime

SEEDED_FROM = datetime(2019, 3, 8, tzinfo=UTC)


def test_the_2019_statement_is_seeded_published_with_its_values(runtime: Runtime):
    with runtime.session() as session:
        statement = statement_in_force(session, at=datetime(2026, 1, 1, tzinfo=UTC))
        assert statement is not None
        assert statement.id == SEED_STATEMENT_ID
        assert statement.version_label == "2019-03-08"
        assert statement.last_updated == date(2019, 3, 8)
        assert statement.status is StatementStatus.published
        assert statement.effective_from == SEEDED_FROM
        assert statement.material is False
        assert statement.parameters == STATEMENT_2019_VALUES
        [initial] = statement.changes
        assert initial.summary.startswith("Initial version")
        assert initial.material is False


def test_the_seeded_values_pass_the_registry_with_every_key_set(runtime: Runtime):
    with runtime.session() as session:
        statement = statement_in_force(session, at=SEEDED_FROM)
        assert statement is not None
        assert validate_policy_values(statement.parameters, require_all=True) == (
            statement.parameters
        )


def test_no_statement_is_in_force_before_8_march_2019(runtime: Runtime):
    with runtime.session() as session:
        assert statement_in_force(session, at=SEEDED_FROM - timedelta(microseconds=1)) is None
        assert statement_in_force(session, at=SEEDED_FROM) is not None
