"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import time

import marshmallow as ma
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask.views import MethodView
from sqlalchemy import text

from ..db.migrations import alembic_config
from ..http import PROBLEM_CONTENT_TYPE, Blueprint, ProblemSchema, problem_response, runtime

blp = Blueprint("ops", __name__, description="Service health")


class LivezSchema(ma.Schema):
    status = ma.fields.String(required=True)


class ReadyzSchema(ma.Schema):
    status = ma.fields.String(required=True)
    database = ma.fields.String(required=True)
    migrations = ma.fields.String(required=True)
    database_ms = ma.fields.Float(required=True)


_HEAD_REVISIONS: set[str] | None = None


def _head_revisions() -> set[str]:
    # The script directory does not change while the process runs: read it once.
    global _HEAD_REVISIONS  # noqa: PLW0603
    if _HEAD_REVISIONS is None:
        _HEAD_REVISIONS = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    return _HEAD_REVISIONS


@blp.route("/livez")
class Livez(MethodView):
    @blp.doc(operationId="getLiveness", security=[])
    @blp.response(200, LivezSchema)
    def get(self) -> dict[str, str]:
        """The process is up (no dependency is checked)"""
        return {"status": "ok"}


@blp.route("/readyz")
class Readyz(MethodView):
    @blp.doc(operationId="getReadiness", security=[])
    @blp.response(200, ReadyzSchema)
    @blp.alt_response(
        503,
        schema=ProblemSchema,
        content_type=PROBLEM_CONTENT_TYPE,
        description="Not ready: database unreachable or migrations behind",
        headers={"Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}},
    )
    def get(self) -> object:
        """Ready to serve: the database answers and its schema is at the latest migration"""
        started = time.perf_counter()
        try:
            with runtime().database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                current = set(MigrationContext.configure(connection).get_current_heads())
        except Exception:  # noqa: BLE001 - any failure to reach the database means not ready
            return problem_response(
                503,
                code="not-ready",
                detail="the database is unreachable",
                headers={"Retry-After": "5"},
            )
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        if current != _head_revisions():
            return problem_response(
                503,
                code="not-ready",
                detail="the database schema is not at the latest migration",
                headers={"Retry-After": "5"},
            )
        return {"status": "ok", "database": "ok", "migrations": "head", "database_ms": elapsed_ms}
